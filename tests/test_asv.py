"""asv discovers the suite, and a quick smoke run records CPU results and skips the GPU."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import needs, results_frame

REPO = Path(__file__).resolve().parents[1]


def _asv_env(tmp_path):
    env = dict(os.environ, HOME=str(tmp_path), TOKFRAG_SMOKE="1", TOKFRAG_RUN=f"test-{os.getpid()}")
    return env


def _config(tmp_path) -> Path:
    conf = json.loads((REPO / "asv.conf.json").read_text())
    conf.update(repo=str(REPO), benchmark_dir=str(REPO / "benchmarks"), results_dir=str(tmp_path / "results"),
                html_dir=str(tmp_path / "html"), env_dir=str(tmp_path / "env"))
    path = tmp_path / "asv.conf.json"
    path.write_text(json.dumps(conf))
    return path


def test_asv_check_discovers_the_suite(tmp_path):
    r = subprocess.run([sys.executable, "-m", "asv", "check", "--python=same", "--config", str(_config(tmp_path))],
                       cwd=REPO, capture_output=True, text=True, env=_asv_env(tmp_path), timeout=600)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]


@pytest.mark.slow
@needs("pytorch", "tensorflow")
def test_quick_smoke_run_on_mnist(tmp_path, mnist):
    sha = subprocess.run(["git", "rev-parse", "HEAD"], cwd=REPO, capture_output=True, text=True)
    if sha.returncode != 0:
        pytest.skip("not a git checkout with a commit")
    env = _asv_env(tmp_path)
    conf = _config(tmp_path)
    subprocess.run([sys.executable, "-m", "asv", "machine", "--yes", "--machine", "smoke", "--config", str(conf)],
                   cwd=REPO, env=env, check=True, capture_output=True)
    r = subprocess.run(
        [sys.executable, "-m", "asv", "run", "--python=same", "--quick", "--set-commit-hash", sha.stdout.strip(),
         "--machine", "smoke", "--config", str(conf), "--show-stderr",
         "-b", r"Training\.track_accuracy\(.*'mnist/", "-b", r"Step\.time_train_step\(.*'mnist/"],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=1200)
    assert r.returncode == 0, r.stdout[-4000:] + r.stderr[-4000:]
    df = results_frame(tmp_path / "results")
    assert not df.empty
    for bench in ("bench_pipelines.Training.track_accuracy", "bench_pipelines.Step.time_train_step"):
        rows = df[(df.benchmark == bench) & df.params.map(lambda p: p[1].startswith("mnist/"))]
        assert len(rows) == 8, rows  # 2 frameworks x 2 MNIST pipelines x 2 devices
        cpu = rows[rows.params.map(lambda p: p[2] == "cpu")]
        gpu = rows[rows.params.map(lambda p: p[2] == "gpu")]
        assert (cpu.status == "ok").all(), cpu
        if shutil.which("nvidia-smi") is None:
            assert (gpu.status == "skipped").all(), gpu
    acc = df[(df.benchmark == "bench_pipelines.Training.track_accuracy") & (df.status == "ok")].value
    assert len(acc) == 4
    assert ((acc > 10) & (acc <= 100)).all(), acc  # one epoch already beats chance (10%)


@needs("pytorch")
def test_context_warms_up_only_when_asked(mnist):
    """Step (CPU) leaves warming up to asv's warmup_time; Modes measures the first, compiling step."""
    sys.path.insert(0, str(REPO))
    try:
        from benchmarks import common
    finally:
        sys.path.remove(str(REPO))
    cold = common.context("pytorch", "mnist/fragment", "cpu", warm_up=False)
    assert cold.first_step_seconds is None and cold.batch_size == 64
    warm = common.context("pytorch", "mnist/fragment", "cpu")
    assert warm is not cold and warm.first_step_seconds > 0
    assert common.context("pytorch", "mnist/fragment", "cpu", warm_up=False) is cold  # cached per process
    loss = cold.trainer.sync(cold.trainer.train_step(cold.x, cold.y, cold.lr))
    assert 0 < loss < 10
