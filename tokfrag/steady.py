"""Speed figures that hold still: steady-state warm-up, noisy timings re-measured, and a check of
asv's step time against an in-process loop.

Why TensorFlow's CPU step is more fragile than PyTorch's: TensorFlow runs each op on an
inter-op pool *and* an intra-op pool (here 2 x 2 threads on 2 cores), and its first calls of
a ``tf.function`` pay tracing, graph optimisation and oneDNN's primitive creation. A step
timed before those settle, or beside a busy neighbour that takes one of the two cores, can be
2-3x its steady value (measured: video/fragment 52 ms alone, 130 ms with one core busy), while
PyTorch's single OpenMP pool degrades far less. And with nothing else running, TensorFlow's
step switches between two speeds in episodes of seconds (mnist/fragment: 25 ms, and its
one-thread speed of 35 ms for seconds at a time, the threads' CPU time unchanged), where
PyTorch's spinning OpenMP threads hold one speed. So every timed benchmark starts from steady
state (``steady_state``, called by the benchmarks' first call) and is timed over a window of
up to ``WINDOW`` seconds, longer than most episodes, a timing whose samples spread
more than ``stats.NOISY`` is re-measured once by ``tokfrag bench`` and flagged on the
leaderboard if it stays noisy, and ``check`` compares asv's median step with the same step
timed in one process after the same warm-up.
"""

from __future__ import annotations

import json
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path

from . import stats

STEP = "bench_pipelines.Step.time_train_step"
TOLERANCE = 0.10  # asv's median within 10% of the in-process loop
# The window of a step timing, in asv (``Step.repeat``) and in the in-process loop alike: 10 to 200
# individually timed calls over up to 4 s. TensorFlow's CPU step switches between two speeds in
# episodes of 1-2 s (see the module's docstring); a median over 4 s is not moved by one episode,
# where the median of 15 steps (0.4 s of a 25 ms step) lands wholly inside or outside one.
MIN_SAMPLES, MAX_SAMPLES, WINDOW = 10, 200, 4.0
CHUNK = 0.5  # seconds of steps per median when the loop looks for two speeds


def steady_state(call, min_calls: int = 6, min_seconds: float = 1.0, max_seconds: float = 20.0,
                 tolerance: float = 0.10) -> list[float]:
    """Call ``call`` until its time holds still: at least ``min_calls`` calls and ``min_seconds``,
    then until the median of the last 3 calls is within ``tolerance`` of the median of the 3
    before (or ``max_seconds`` have passed). Returns every call's time, in seconds."""
    times: list[float] = []
    start = time.perf_counter()
    while True:
        t0 = time.perf_counter()
        call()
        times.append(time.perf_counter() - t0)
        elapsed = time.perf_counter() - start
        if elapsed >= max_seconds:
            return times
        if len(times) >= max(min_calls, 6) and elapsed >= min_seconds:
            recent, before = statistics.median(times[-3:]), statistics.median(times[-6:-3])
            if abs(recent - before) <= tolerance * before:
                return times


def speeds(times: list[float], chunk: float = CHUNK) -> tuple[float, float]:
    """(fastest, slowest) median of consecutive runs of calls lasting ``chunk`` seconds each (the
    last, shorter run joins the one before): the two speeds of a step that switches between them
    within a window, or twice the same figure for a step that holds one speed."""
    runs: list[list[float]] = [[]]
    for t in times:
        if sum(runs[-1]) >= chunk:
            runs.append([])
        runs[-1].append(t)
    if len(runs) > 1 and sum(runs[-1]) < chunk:
        runs[-2].extend(runs.pop())
    medians = [statistics.median(r) for r in runs if r]
    return min(medians), max(medians)


def step_batch(trainer, data, spec):
    """The batch a step benchmark times: the first ``batch_size`` samples of seed's epoch 0,
    preprocessed on the device, with their labels."""
    from .training import batch_order

    t = spec.train
    idx = batch_order(t.seed, 0, len(data.train_y))[: t.batch_size]
    raw = trainer.upload(data.train_x[idx])
    return raw, trainer.preprocess(raw), trainer.labels(data.train_y[idx])


def noisy(path: Path, threshold: float = stats.NOISY) -> list[tuple[str, tuple, float]]:
    """(benchmark, params, relative IQR) of every timing in ``path`` whose samples spread more
    than ``threshold``."""
    from .compare import kind_of, read_results

    result = read_results(path)
    out = []
    for name in result.entries:
        if kind_of(name, result.meta.get(name, {})) != "time":
            continue
        for key, combo in result.combos(name).items():
            spread = stats.relative_iqr([s for s in combo.samples or () if isinstance(s, (int, float))])
            if spread is not None and spread > threshold:
                out.append((name, key, spread))
    return out


def selector(name: str, key: tuple) -> str:
    """An asv -b regex that selects exactly one combination."""
    return "^" + re.escape(f"{name}({', '.join(key)})" if key else name) + "$"


def in_process(framework: str, pipeline: str, window: float = WINDOW) -> dict:
    """The step of ``Step.time_train_step`` timed in this process: same trainer, same batch, the
    same steady-state warm-up, then individually timed steps over the same window as asv's
    (``MIN_SAMPLES`` to ``MAX_SAMPLES`` calls within ``window`` seconds)."""
    from .catalog import get_pipeline
    from .training import make_trainer

    spec = get_pipeline(pipeline)
    trainer, data = make_trainer(framework, spec, "cpu")
    _, x, y = step_batch(trainer, data, spec)
    lr = spec.train.lr

    def step():
        trainer.sync(trainer.train_step(x, y, lr))

    warm = steady_state(step)
    times = []
    start = time.perf_counter()
    while len(times) < MIN_SAMPLES or (len(times) < MAX_SAMPLES and time.perf_counter() - start < window):
        t0 = time.perf_counter()
        step()
        times.append(time.perf_counter() - t0)
    fast, slow = speeds(times)
    return {"framework": framework, "pipeline": pipeline, "median": statistics.median(times),
            "spread": stats.relative_iqr(times), "fast": fast, "slow": slow,
            "warm_up_calls": len(warm), "first_call": warm[0]}


def _measure(framework: str, pipelines: list[str]) -> list[dict]:
    """``in_process`` for each pipeline, in a process of its own per framework (one framework
    imported per process, as asv does)."""
    code = ("import json, sys; from tokfrag.steady import in_process; "
            "print(json.dumps([in_process(sys.argv[1], p) for p in sys.argv[2:]]))")
    r = subprocess.run([sys.executable, "-c", code, framework, *pipelines], capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError(f"in-process step timing of {framework} failed: {r.stderr.strip()[-800:]}")
    return json.loads(r.stdout.strip().splitlines()[-1])


def asv_steps(path: Path) -> dict[tuple[str, str], dict]:
    """(framework, pipeline) -> asv's median step and sample spread, CPU combinations with a number."""
    from .compare import is_number, read_results
    from .results import unquote

    result = read_results(path)
    out = {}
    if STEP not in result.entries:
        return out
    for key, combo in result.combos(STEP).items():
        fw, pipeline, device = (unquote(k) for k in key)
        if device == "cpu" and is_number(combo.value):
            samples = [s for s in combo.samples or () if isinstance(s, (int, float))]
            out[(fw, pipeline)] = {"median": float(combo.value), "spread": stats.relative_iqr(samples),
                                   "samples": len(samples)}
    return out


def why(asv: dict, loop: dict, ratio: float, back_to_back: bool = False) -> str:
    """The verdict of one combination: ``ok`` within TOLERANCE, else the most likely reason
    (``back_to_back``: asv's figure was measured just before the loop, so drift is ruled out)."""
    if abs(ratio - 1) <= TOLERANCE:
        return "ok"
    fast, slow = loop.get("fast"), loop.get("slow")
    if fast and slow and slow > (1 + TOLERANCE) * fast and \
            (1 - TOLERANCE) * fast <= asv["median"] <= (1 + TOLERANCE) * slow:
        return (f"two speeds: the loop's {CHUNK:g}-s medians ran from {fast * 1e3:.1f} to {slow * 1e3:.1f} ms "
                "with nothing else running, and asv's median lies between them (see the README's "
                "steady-state section)")
    if asv["spread"] is not None and asv["spread"] > stats.NOISY:
        return f"asv's samples spread {asv['spread']:.0%}: the machine was busy during asv's run"
    if loop["spread"] is not None and loop["spread"] > stats.NOISY:
        return f"the in-process loop spread {loop['spread']:.0%}: the machine is busy now"
    if back_to_back:
        return ("both steady and still apart when measured back to back: asv's process and the loop "
                "differ for this combination, not the machine (see the README's steady-state section)")
    return ("both steady but apart: the machine's speed changed between the two measurements "
            "(another process, frequency scaling); re-run `tokfrag calibrate --steady`")


def check(path: Path, only: list[dict] | None = None, back_to_back: bool = False) -> list[dict]:
    """Compare asv's median ``Step.time_train_step`` in ``path`` with the in-process loop, for
    every CPU framework x pipeline it measured (``only``: those of these rows)."""
    steps = asv_steps(path)
    if only is not None:
        wanted = {(r["framework"], r["pipeline"]) for r in only}
        steps = {k: v for k, v in steps.items() if k in wanted}
    rows = []
    for fw in sorted({fw for fw, _ in steps}):
        pipelines = [p for f, p in steps if f == fw]
        if not pipelines:
            continue
        for loop in _measure(fw, pipelines):
            asv = steps[(fw, loop["pipeline"])]
            ratio = asv["median"] / loop["median"]
            rows.append({"framework": fw, "pipeline": loop["pipeline"], "asv_median": asv["median"],
                         "asv_spread": asv["spread"], "loop_median": loop["median"], "loop_spread": loop["spread"],
                         "loop_fast": loop["fast"], "loop_slow": loop["slow"], "ratio": ratio,
                         "verdict": why(asv, loop, ratio, back_to_back)})
    return rows


def settle(rows: list[dict], path: Path, asv_cmd: list[str], env: dict | None = None, cwd=None,
           log=print) -> list[dict]:
    """Re-measure, once, every row of ``check`` that is not ok: asv's benchmark of that one
    combination, then the in-process loop, back to back, so that both see the machine of the same
    minute (a shared machine's speed drifts over minutes; a whole asv run and the loops that follow
    it are many minutes apart). ``asv_cmd``: an ``asv run`` command line without ``-b``."""
    apart = [r for r in rows if r["verdict"] != "ok"]
    if not apart:
        return rows
    log(f"{len(apart)} apart: re-measuring each with asv, then in one process, back to back")
    again = {}
    for r in apart:
        key = (r["framework"], r["pipeline"])
        sel = selector(STEP, (repr(r["framework"]), repr(r["pipeline"]), "'cpu'"))
        subprocess.run(list(asv_cmd) + ["-b", sel], cwd=cwd, env=env, capture_output=True)
        for row in check(path, only=[r], back_to_back=True):
            again[key] = dict(row, remeasured=True)
    return [again.get((r["framework"], r["pipeline"]), r) for r in rows]


def asv_command(path: Path) -> list[str]:
    """The ``asv run`` command line (without ``-b``) that re-measures into the results file ``path``:
    its commit, machine and this interpreter, samples recorded."""
    from .compare import read_results

    result = read_results(path)
    return [sys.executable, "-m", "asv", "run", "--python=same", "--set-commit-hash", result.commit,
            "--machine", result.machine, "--record-samples"]


def write(rows: list[dict], path: Path) -> str:
    """Store the check beside the results file it checked, as JSON lines (``steady-<commit>.jsonl``:
    asv and the leaderboard read only ``*.json``); returns a line saying where."""
    out = path.with_name(f"steady-{path.name.split('-')[0]}.jsonl")
    out.write_text("".join(json.dumps(r) + "\n" for r in rows))
    ok = sum(r["verdict"] == "ok" for r in rows)
    return f"steady-state check: {ok} of {len(rows)} within {TOLERANCE:.0%}; written: {out}"


def _pct(v: float | None) -> str:
    return "—" if v is None else f"{v:.0%}"


def _speeds(r: dict) -> str:
    fast, slow = r.get("loop_fast"), r.get("loop_slow")
    return "—" if fast is None or slow is None else f"{fast * 1e3:.1f}-{slow * 1e3:.1f}"


def table(rows: list[dict]) -> str:
    lines = [f"{'framework':10s} {'pipeline':16s} {'asv ms':>8s} {'spread':>6s} {'loop ms':>8s} {'spread':>6s} "
             f"{'0.5-s medians':>13s} {'asv/loop':>8s}  verdict"]
    for r in rows:
        lines.append(f"{r['framework']:10s} {r['pipeline']:16s} {r['asv_median'] * 1e3:8.1f} "
                     f"{_pct(r['asv_spread']):>6s} {r['loop_median'] * 1e3:8.1f} {_pct(r['loop_spread']):>6s} "
                     f"{_speeds(r):>13s} {r['ratio']:8.2f}  {r['verdict']}"
                     f"{' (re-measured)' if r.get('remeasured') else ''}")
    return "\n".join(lines)
