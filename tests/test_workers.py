"""The workers axis: batches split into shards, worker groups started and always stopped, and two
data-parallel workers (PyTorch DDP, TensorFlow MultiWorkerMirroredStrategy) proven to follow one."""

import json
import subprocess

import numpy as np
import pytest

from helpers import needs
from tokfrag import parity, spec, workers
from tokfrag.errors import UsageError


def test_shards_are_contiguous_disjoint_and_cover_the_batch():
    idx = np.arange(100, 132)
    parts = [workers.shard(idx, workers.Group(r, 4)) for r in range(4)]
    assert [len(p) for p in parts] == [8] * 4
    assert np.array_equal(np.concatenate(parts), idx)  # disjoint, in order, nothing left out
    assert workers.shard(idx, None) is idx and workers.shard(idx, workers.Group(0, 1)) is idx
    with pytest.raises(UsageError, match="cannot be split into 3 equal shards"):
        workers.shard(idx, workers.Group(0, 3))


def test_the_environment_of_a_worker_speaks_torchrun_and_tf_config(monkeypatch):
    env = workers.worker_env(1, 2, [29500, 29501, 29502], threads=1, device="cpu", base={})
    assert (env["RANK"], env["WORLD_SIZE"], env["LOCAL_RANK"], env["MASTER_PORT"]) == ("1", "2", "1", "29500")
    tf_config = json.loads(env["TF_CONFIG"])
    assert tf_config == {"cluster": {"worker": ["127.0.0.1:29501", "127.0.0.1:29502"]},
                         "task": {"type": "worker", "index": 1}}
    for var in ("RANK", "WORLD_SIZE", "LOCAL_RANK", "TF_CONFIG"):
        monkeypatch.delenv(var, raising=False)
    assert workers.from_env("pytorch") is None and workers.from_env("tensorflow") is None
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    assert workers.from_env("pytorch") == (1, 2, 1) and workers.from_env("tensorflow") == (1, 2, 1)
    monkeypatch.setenv("TF_CONFIG", '{"cluster": {}}')
    with pytest.raises(UsageError, match="TF_CONFIG is not a cluster of workers"):
        workers.from_env("tensorflow")
    monkeypatch.setenv("RANK", "0")
    monkeypatch.setenv("WORLD_SIZE", "1")
    assert workers.join("pytorch") is None  # a group of one is the single-process path: no engine joined
    gpu = workers.worker_env(1, 2, [1, 2, 3], threads=1, device="gpu", base={})
    assert gpu["CUDA_VISIBLE_DEVICES"] == "1" and gpu["LOCAL_RANK"] == "0"


def _workers_of(marker: str) -> list[str]:
    out = subprocess.run(["ps", "-eo", "args"], capture_output=True, text=True).stdout
    return [line for line in out.splitlines() if "tokfrag.workers" in line and marker in line]


@needs("pytorch")
def test_a_failing_worker_is_named_and_no_worker_is_left_behind():
    job = {"kind": "trajectory", "framework": "pytorch", "pipeline": "nowhere/fragment", "steps": 2}
    with pytest.raises(workers.WorkerError, match=r"(?s)worker \d of 2 failed \(exit 1\).*nowhere"):
        workers.launch(job, 2, timeout=300)
    assert _workers_of("nowhere/fragment") == []


@needs("pytorch")
def test_a_hung_group_is_stopped_at_its_timeout(mnist):
    job = {"kind": "train", "framework": "pytorch", "pipeline": "mnist/fragment", "epochs": 50, "seed": 7}
    with pytest.raises(workers.WorkerError, match="still running after 3 s.*stopped"):
        workers.launch(job, 2, timeout=3)
    assert _workers_of("--epochs 50 --seed 7") == []


@pytest.mark.slow
@needs("pytorch", "tensorflow")
@pytest.mark.parametrize("pipeline", list(spec.PIPELINES))
def test_two_workers_follow_one_in_both_frameworks(pipeline, mnist):
    """Every pipeline of the default matrix: 2 workers (one thread each) against 1, per framework, and
    PyTorch's 2 workers against TensorFlow's, under the parity tolerances (loss rtol 1e-3 at each of 20
    steps, final weights atol 1e-3)."""
    from tokfrag import data

    data.prepare(spec.PIPELINES[pipeline].dataset.name, quiet=True)
    rows = parity.check_workers(spec.PIPELINES[pipeline], 2)
    assert len(rows) == 6
    failed = [f"{r.check}: {r.max_diff} ({r.detail})" for r in rows if r.status != "pass"]
    assert not failed, failed


def test_the_trajectory_check_fails_beyond_its_tolerances():
    """The comparison the workers check makes: a loss 0.2% off at one step, or one weight 2e-3 off,
    fails; differences inside the tolerances pass."""
    p = spec.PIPELINES["mnist/fragment"]
    a = {"losses": [2.30, 2.10, 1.90], "weights": {"head.bias": [0.0, 0.1], "head.weight": [[1.0, 2.0]]}}
    close = {"losses": [2.30, 2.1005, 1.90], "weights": {"head.bias": [0.0, 0.1005], "head.weight": [[1.0, 2.0]]}}
    assert [r.status for r in parity._trajectory_rows(p, "2 workers pytorch", a, close)] == ["pass", "pass"]
    off = {"losses": [2.30, 2.1042, 1.90], "weights": {"head.bias": [0.0, 0.1], "head.weight": [[1.0, 2.002]]}}
    rows = parity._trajectory_rows(p, "2 workers pytorch", a, off)
    assert [(r.check, r.status) for r in rows] == [("2 workers pytorch loss", "fail"),
                                                   ("2 workers pytorch weights", "fail")]
    assert rows[0].detail == "3 steps; largest at step 1" and rows[1].detail == "largest in head.weight"
