"""Shared parameters and cached setup for the asv suite.

No framework is imported at module level: asv imports this suite once per benchmark
process, and a combination only imports the framework it times. Expensive setup (data,
model, preprocessed batches) is cached per process, because asv calls setup() before
every timed call.
"""

from __future__ import annotations

import os

from tokfrag import frameworks
from tokfrag.spec import PIPELINES, get_pipeline, with_overrides

FRAMEWORKS = list(frameworks.FRAMEWORKS)
PIPELINE_NAMES = list(PIPELINES)
DEVICES = list(frameworks.DEVICES)

# TOKFRAG_SMOKE=1 shrinks the training budget to one epoch: for the CI smoke run only.
SMOKE = os.environ.get("TOKFRAG_SMOKE") == "1"

_CONTEXTS: dict = {}


def spec_for(pipeline: str):
    spec = get_pipeline(pipeline)
    return with_overrides(spec, epochs=1) if SMOKE else spec


class Context:
    """A trainer plus one training batch and one inference batch, already on the device.

    With ``warm_up`` (the default), one training step and one inference have run (the first
    step's time, compilation included, is kept) and the batch size was halved on out-of-memory.
    Without it nothing has run yet: asv's own warm-up (``warmup_time``) calls a timed function at
    least once before its first sample, so a benchmark that times one function need not pay for
    tracing the others.
    """

    def __init__(self, framework: str, pipeline: str, device: str, mode: str = "default",
                 precision: str = "fp32", spec=None, warm_up: bool = True):
        from tokfrag.training import with_oom_backoff

        impl = frameworks.get(framework)
        if mode not in impl.MODES or precision not in impl.PRECISIONS:
            raise NotImplementedError(f"{framework} has no mode {mode!r} / precision {precision!r}")
        self.first_step_seconds = None
        self.warm_up = warm_up
        _, self.spec = with_oom_backoff(lambda s: self._build(framework, s, device, mode, precision),
                                        spec or spec_for(pipeline), impl.OOM_ERRORS)

    def _build(self, framework: str, spec, device: str, mode: str, precision: str) -> None:
        import time

        from tokfrag.training import batch_order, make_trainer

        self.spec = spec
        self.trainer, data = make_trainer(framework, self.spec, device, mode, precision)
        t = self.spec.train
        idx = batch_order(t.seed, 0, len(data.train_y))[: t.batch_size]
        self.raw_batch = self.trainer.upload(data.train_x[idx])  # uint8 samples, on the device
        self.x = self.trainer.preprocess(self.raw_batch)
        self.y = self.trainer.labels(data.train_y[idx])
        self.x_eval = self.trainer.inputs(data.test_x[: t.eval_batch_size])
        self.lr = t.lr
        self.batch_size = len(idx)
        if not self.warm_up:
            return
        start = time.perf_counter()
        self.trainer.sync(self.trainer.train_step(self.x, self.y, self.lr))  # warm-up: steady state
        self.first_step_seconds = time.perf_counter() - start  # includes tracing / compilation
        self.trainer.logits(self.x_eval)
        self.trainer.sync()


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
                    precision: str = "fp32") -> dict:
    """The session's training run of this combination (``tokfrag.runs``): read without importing
    any framework when an earlier benchmark of the session trained it, else trained here."""
    from tokfrag import runs

    spec = spec_for(pipeline)
    result = runs.result(framework, spec, device, mode, precision, train=False)
    if result is None:
        check_runnable(framework, device)
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
