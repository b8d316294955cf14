"""Shared parameters and cached setup for the asv suite.

No framework is imported at module level: asv imports this suite once per benchmark
process, and a combination only imports the framework it times. Expensive setup (data,
model, preprocessed batches) is cached per process, because asv calls setup() before
every timed call.
"""

from __future__ import annotations

from tokfrag import catalog, config, frameworks, steady
from tokfrag.spec import PIPELINES, with_overrides

FRAMEWORKS = list(frameworks.FRAMEWORKS)
DEVICES = list(frameworks.DEVICES)


def pipeline_names() -> list[str]:
    """The pipeline parameter of the suite: every default pipeline, or with $TOKFRAG_DATASETS
    (``tokfrag.config.datasets``; `tokfrag bench --dataset NAME`, repeatable, sets it) those of the
    datasets named there, embedded or prepared of one's own (``<name>/fragment``, ``<name>/token``)."""
    names = config.datasets()
    if not names:
        return list(PIPELINES)
    return [p for n in names for p in catalog.pipelines_of(n)]


PIPELINE_NAMES = pipeline_names()

# TOKFRAG_SMOKE=1 shrinks the training budget to one epoch: for the CI smoke run only.
SMOKE = config.smoke()
DEFAULT_SEEDS = config.DEFAULT_SEEDS  # `tokfrag bench --seeds N` sets $TOKFRAG_SEEDS


def seeds() -> list[int]:
    """The training seeds of this run: 0 .. $TOKFRAG_SEEDS - 1 (default 3; ``tokfrag.config.seeds``).

    A seed drives a run's initial weights, batch order and augmentation shifts, the same in
    both frameworks; the token codebooks keep their own fixed seed (``Codebook.seed``)."""
    return list(range(config.seeds()))


SEEDS = seeds()

_CONTEXTS: dict = {}


def spec_for(pipeline: str, seed: int | None = None):
    """The pipeline's spec, with ``seed`` (default: the spec's own) and the smoke budget if set."""
    spec = catalog.get_pipeline(pipeline)
    # a budget in steps (a scale point's) is a budget too: the smoke run trains one epoch of every pipeline
    overrides = ({"epochs": 1, "steps": 0} if SMOKE else {}) | ({} if seed is None else {"seed": int(seed)})
    return with_overrides(spec, **overrides) if overrides else spec


class Context:
    """A trainer plus one training batch and one inference batch, already on the device.

    With ``warm_up`` (the default), one training step and one inference have run (the first
    step's time, compilation included, is kept) and the batch size was halved on out-of-memory.
    Without it nothing has run yet: asv's own warm-up (``warmup_time``) calls a timed function at
    least once before its first sample, and that first call runs the operation to steady state
    (``timed``), so a benchmark that times one function need not pay for tracing the others.
    """

    def __init__(self, framework: str, pipeline: str, device: str, mode: str = "default",
                 precision: str = "fp32", spec=None, warm_up: bool = True):
        from tokfrag.training import with_oom_backoff

        impl = frameworks.get(framework)
        if mode not in impl.MODES or precision not in impl.PRECISIONS:
            raise NotImplementedError(f"{framework} has no mode {mode!r} / precision {precision!r}")
        self.first_step_seconds = None
        self.warm_up = warm_up
        self.warm_ups: dict[str, list[float]] = {}  # operation -> its steady-state warm-up call times
        _, self.spec = with_oom_backoff(lambda s: self._build(framework, s, device, mode, precision),
                                        spec or spec_for(pipeline), impl.OOM_ERRORS)

    def _build(self, framework: str, spec, device: str, mode: str, precision: str) -> None:
        import time

        from tokfrag.training import make_trainer

        self.spec = spec
        self.trainer, data = make_trainer(framework, self.spec, device, mode, precision)
        t = self.spec.train
        # uint8 samples on the device, the preprocessed batch, its labels (tokfrag.steady.check times the same)
        self.raw_batch, self.x, self.y = steady.step_batch(self.trainer, data, self.spec)
        self.x_eval = self.trainer.inputs(data.test_x[: t.eval_batch_size])
        self.lr = t.lr
        self.batch_size = int(self.y.shape[0])
        if not self.warm_up:
            return
        start = time.perf_counter()
        self.trainer.sync(self.trainer.train_step(self.x, self.y, self.lr))  # warm-up: steady state
        self.first_step_seconds = time.perf_counter() - start  # includes tracing / compilation
        self.trainer.logits(self.x_eval)
        self.trainer.sync()

    def run(self, op: str) -> None:
        """One call of a timed operation, synchronised: ``train_step``, ``preprocess`` or ``inference``."""
        t = self.trainer
        if op == "train_step":
            t.sync(t.train_step(self.x, self.y, self.lr))
        elif op == "preprocess":
            t.preprocess(self.raw_batch)
            t.sync()
        elif op == "inference":
            t.logits(self.x_eval)
            t.sync()
        else:
            raise ValueError(f"unknown operation {op!r}")

    def timed(self, op: str) -> None:
        """What a ``time_`` benchmark times: one call of ``op``, from steady state.

        The first call in a process runs ``op`` until it is steady (``steady_state``): tracing,
        oneDNN's primitive caches and the thread pools' start-up are paid there. asv makes that
        first call in its warm-up phase (``warmup_time`` > 0; with a setup, every sample is one
        call), so no sample includes it.
        """
        if op in self.warm_ups:
            self.run(op)
        else:
            self.warm_ups[op] = steady.steady_state(lambda: self.run(op))


def context(framework: str, pipeline: str, device: str, mode: str = "default", precision: str = "fp32",
            spec=None, warm_up: bool = True) -> Context:
    """Cached per process; raises NotImplementedError (asv: skipped) when it cannot run here."""
    key = (framework, pipeline, device, mode, precision, spec, warm_up)
    if key not in _CONTEXTS:
        frameworks.require_device(device)  # no GPU at all -> skipped before any framework import
        frameworks.get(framework)  # FrameworkMissing -> skipped
        # DeviceUnavailable -> skipped
        _CONTEXTS[key] = Context(framework, pipeline, device, mode, precision, spec, warm_up)
    return _CONTEXTS[key]


def training_result(framework: str, pipeline: str, device: str, mode: str = "default",
                    precision: str = "fp32", seed: int | None = None) -> dict:
    """The session's training run of this combination and seed (``tokfrag.runs``): read without
    importing any framework when an earlier benchmark of the session trained it, else trained here."""
    from tokfrag import runs

    spec = spec_for(pipeline, seed)
    result = runs.result(framework, spec, device, mode, precision, train=False)
    if result is None:
        check_runnable(framework, device)
        # The first benchmark of a combination trains every seed of the run, here: the framework
        # is imported and the data loaded once instead of once per seed (about 3 minutes of the
        # default run on 2 cores). Each run's peak memory is still its own (training.peak_rss).
        for s in ([seed] + [s for s in SEEDS if s != seed] if seed in SEEDS else [seed]):
            runs.result(framework, spec_for(pipeline, s), device, mode, precision)
        result = runs.result(framework, spec, device, mode, precision)
    return result


def check_runnable(framework: str, device: str) -> None:
    """Skip early (NotImplementedError) for a missing framework or device, before any training."""
    frameworks.require_device(device)
    impl = frameworks.get(framework)
    impl.select_device(device)


def parity_failures(names: list[str]) -> dict:
    """{pipeline: failed parity checks, or the error it raised}, or {"skip": why} without both frameworks.

    Meant for asv's ``setup_cache``: every pipeline in one process, the frameworks imported once."""
    from tokfrag import parity

    missing = [fw for fw in frameworks.FRAMEWORKS if not frameworks.installed(fw)]
    if missing:
        return {"skip": f"not checked ({', '.join(missing)} missing)"}
    out = {}
    for name in names:
        try:
            rows = parity.check_pipeline(spec_for(name))
            out[name] = sum(r.status != "pass" for r in rows)
        except Exception as e:  # noqa: BLE001 - recorded, and raised by this pipeline's benchmark only
            out[name] = f"{type(e).__name__}: {e}"
    return out
