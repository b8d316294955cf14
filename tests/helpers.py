"""What the test modules share: the skip marker for a missing framework, results as a DataFrame,
a checkout of this working tree, and small synthetic asv results for the leaderboard.

Test modules import shared helpers from here only, never from ``conftest.py`` (fixtures, hooks and
options) nor from one another: ``tests/test_imports.py`` checks it.
"""

import itertools
import json
import math
import shutil
import subprocess
from pathlib import Path

import pytest

from tokfrag import frameworks

REPO = Path(__file__).resolve().parents[1]


def needs(*names):
    missing = [n for n in names if not frameworks.installed(n)]
    return pytest.mark.skipif(bool(missing), reason=f"{', '.join(missing)} not installed")


def results_frame(results_dir):
    """Every results row under ``results_dir`` as a pandas DataFrame (tokfrag itself needs no pandas)."""
    import pandas as pd

    from tokfrag import results

    return pd.DataFrame([row for path in results.files(results_dir) for row in results.read_file(path)],
                        columns=results.COLUMNS)


def checkout_copy(dst: Path) -> Path:
    """This working tree's files (committed or not, ignored ones and results/ left out) as a fresh
    git checkout with one commit: `tokfrag bench` keys results by a commit and writes results/ there."""
    files = subprocess.run(["git", "ls-files", "-co", "--exclude-standard"], cwd=REPO, capture_output=True,
                           text=True, check=True).stdout.splitlines()
    for f in files:
        if f.startswith("results/") or not (REPO / f).is_file():
            continue
        (dst / f).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(REPO / f, dst / f)
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@t", "-c", "commit.gpgsign=false"]
    for args in (["init", "-q", "-b", "main"], ["add", "-A"], ["commit", "-qm", "copy"]):  # asv.conf.json: main
        subprocess.run(git + args, cwd=dst, check=True, capture_output=True)
    return dst


# --- synthetic asv results (the leaderboard's tests and its browser tests) ---------------------
COMMIT_OLD, COMMIT = "a" * 40, "b" * 40
DAY_MS = 86_400_000
DATE_MS = 1_764_000_000_000  # 2025-11-24, as asv stores a commit's date
STEP = ("framework", "pipeline", "device")
BENCHMARKS = {  # name -> param names, as bench_pipelines.py / bench_parity.py declare them
    "bench_pipelines.Step.time_preprocess": STEP,
    "bench_pipelines.Step.time_train_step": STEP,
    "bench_pipelines.Step.time_inference": STEP,
    "bench_pipelines.Training.track_peak_memory": STEP,
    "bench_pipelines.Training.track_accuracy": STEP,
    "bench_pipelines.Training.track_train_throughput": STEP,
    "bench_pipelines.Training.track_time_to_target": STEP,
    "bench_pipelines.Training.track_batch_size": STEP,
    "bench_pipelines.DeviceMemory.track_peak_device_memory": STEP,
    "bench_parity.Parity.track_parity": ("pipeline",),
}
SCALE = ("framework", "representation", "window")
SCALING = {  # bench_perf.Scaling: added by write_results(scaling=True)
    "bench_perf.Scaling.time_train_step": SCALE,
    "bench_perf.Scaling.peakmem_train_step": SCALE,
    "bench_perf.Scaling.track_seq_len": SCALE,
}
VALUES = {
    "framework": ["pytorch", "tensorflow"],
    "pipeline": ["mnist/fragment", "mnist/token"],
    "device": ["cpu", "gpu"],
    "seed": ["0", "1", "2"],
    "representation": ["fragment", "token"],
    "window": [2, 4, 7, 14],  # ints: asv stores them as "2", not "'2'"
}
RESULT_COLUMNS = ["result", "params", "version", "started_at", "duration", "stats_ci_99_a", "stats_ci_99_b",
                  "stats_q_25", "stats_q_75", "stats_number", "stats_repeat", "samples", "profile"]


def scaling_metric(method, p):
    """Scaling: 28 / window units per side; the step grows with units² (token 1.5x, TF 1.2x the cost)."""
    units = (28 // p["window"]) ** 2
    token, tf = p["representation"] == "token", p["framework"] == "tensorflow"
    return {
        "track_seq_len": units,
        "time_train_step": 0.002 + 2e-7 * units**2 * (1.5 if token else 1.0) * (1.2 if tf else 1.0),
        "peakmem_train_step": 5e8 + 1e6 * units,
    }[method]


def metric(name, p):
    """Plausible numbers: fragment beats token on accuracy, GPU is 10x faster, TF token never reaches 90%.

    A machine without a GPU (``_gpu=False``) skips the GPU and the parity checks (NaN)."""
    method = name.rsplit(".", 1)[1]
    if "window" in p:
        return scaling_metric(method, p)
    if p.get("_gpu") is False and (p.get("device") == "gpu" or method == "track_parity"):
        return math.nan
    fast = 10 if p.get("device") == "gpu" else 1
    token = p["pipeline"].endswith("token")
    tf = p.get("framework") == "tensorflow"
    seed = int(p.get("seed", 0))
    return {
        "track_accuracy": (92.0 if token else 96.0) - (0.5 if tf else 0.0) + 0.1 * seed,
        "track_train_throughput": (3000.0 if token else 2500.0) * fast * (0.8 if tf else 1.0),
        "track_time_to_target": math.nan if token and tf else 30.0 / fast,
        "time_train_step": 0.025 / fast,
        "time_preprocess": 0.002 / fast,
        "time_inference": 0.04 / fast,
        "track_peak_memory": 1.5e9,
        "peakmem_train": 1.4e9,  # its name in older commits
        "track_parity": 2 if token else 0,
        "track_batch_size": 64,
        "track_peak_device_memory": 2.5e9 if fast > 1 else math.nan,
    }.get(method, 1.0)


def quoted(values):
    """As asv stores parameter values: their Python reprs."""
    return [f"'{v}'" if isinstance(v, str) else repr(v) for v in values]


def write_results(root, machine="laptop", commit=COMMIT, date=DATE_MS, gpu=True, seeds=False,
                  value=metric, bench_params=None, extra=None, scaling=False, samples=None):
    """One asv results file (format v2) plus machine.json and benchmarks.json under ``root``.

    ``scaling``: add bench_perf.Scaling's benchmarks (to ``bench_params`` or the default ones).
    ``samples(name, params)``: asv's samples of a combination (a list, or None), as
    ``asv run --record-samples`` stores them in the ``samples`` result column."""
    bench_params = dict(bench_params or {n: p + (("seed",) if seeds and "Training" in n else ())
                                         for n, p in BENCHMARKS.items()})
    if scaling:
        bench_params.update(SCALING)
    root = Path(root)
    folder = root / machine.replace("/", "_")  # the machine name inside the file is what counts
    folder.mkdir(parents=True, exist_ok=True)
    (root / "benchmarks.json").write_text(json.dumps(dict(
        {n: {"name": n, "param_names": list(p), "params": [quoted(VALUES[k]) for k in p], "type": "track",
             "unit": "unit", "version": "1"} for n, p in bench_params.items()}, version=2)))
    (folder / "machine.json").write_text(json.dumps(
        {"arch": "x86_64", "cpu": "Test CPU @ 3GHz", "machine": machine, "num_cpu": "8", "os": "Linux 6.1",
         "ram": str(16 * 2**30), "version": 1}))
    out = {}
    for name, names in bench_params.items():
        combos = [dict(zip(names, c), _gpu=gpu) for c in itertools.product(*(VALUES[k] for k in names))]
        out[name] = [[value(name, p) for p in combos], [quoted(VALUES[k]) for k in names], "1", date]
        if samples is not None:  # duration and the stats_* columns stay null; samples is column 11
            out[name] += [None] * 7 + [[samples(name, p) for p in combos]]
    doc = {"commit_hash": commit, "env_name": "existing-py_usr_bin_python3.11", "date": date,
           "params": {"arch": "x86_64", "cpu": "Test CPU @ 3GHz", "machine": machine, "num_cpu": "8",
                      "os": "Linux 6.1", "ram": str(16 * 2**30), "python": "3.11"},
           "python": "3.11", "requirements": {"torch": "2.14.1"}, "env_vars": {},
           "result_columns": RESULT_COLUMNS, "results": out, "durations": {}, "version": 2}
    doc.update(extra or {})
    path = folder / f"{commit[:8]}-existing-py_usr_bin_python3.11.json"
    path.write_text(json.dumps(doc))
    return path


def write_idx(path: Path, arr, gz: bool = False, magic: bytes | None = None) -> Path:
    """``arr`` as an IDX file (the MNIST format; ``path`` + ".gz" when gz); ``magic`` replaces the header."""
    import gzip
    import struct

    import numpy as np

    head = (magic or struct.pack(">HBB", 0, 8, arr.ndim)) + struct.pack(f">{arr.ndim}I", *arr.shape)
    raw = head + np.asarray(arr).astype(np.uint8).tobytes()
    if gz:
        path = path.with_name(path.name + ".gz")
        path.write_bytes(gzip.compress(raw))
    else:
        path.write_bytes(raw)
    return path
