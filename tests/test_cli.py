import subprocess
import sys

import pytest

from helpers import needs
from tokfrag import cli, machine

SUBCOMMANDS = ["prepare", "train", "bench", "parity", "compare", "calibrate", "info", "publish", "serve"]


def test_help_on_every_subcommand():
    for sub in [None] + SUBCOMMANDS:
        argv = [sys.executable, "-m", "tokfrag.cli"] + ([sub] if sub else []) + ["--help"]
        r = subprocess.run(argv, capture_output=True, text=True)
        assert r.returncode == 0, r.stderr
        assert "usage: tokfrag" in r.stdout and len(r.stdout.splitlines()) > 4


def test_prepare_unknown_dataset(capsys):
    assert cli.main(["prepare", "cifar"]) == 2
    assert "valid datasets: mnist" in capsys.readouterr().err


def test_prepare_twice_is_a_noop(mnist, capsys):
    assert cli.main(["prepare", "mnist"]) == 0
    assert "nothing to do" in capsys.readouterr().err


def test_train_unknown_pipeline(capsys):
    assert cli.main(["train", "mnist/pixels"]) == 2
    assert "valid pipelines" in capsys.readouterr().err


def test_info(mnist, capsys):
    assert cli.main(["info"]) == 0
    out = capsys.readouterr().out
    assert "mnist/token" in out and "prepared" in out


def test_machine_name_carries_gpu(monkeypatch):
    monkeypatch.setattr("tokfrag.machine.gpu_info",
                        lambda smi=None: {"name": "NVIDIA H200", "driver": "1", "cuda": "13"})
    assert machine.machine_name().endswith("-H200")
    monkeypatch.setattr("tokfrag.machine.gpu_info", lambda smi=None: None)
    assert "H200" not in machine.machine_name()


def test_perf_selection_is_the_documented_subset():
    """`tokfrag bench --perf` selects (asv -b matches 'name(param, ...)') what its help promises."""
    import itertools
    import re

    from tokfrag.cli import PERF_BENCHMARKS
    from tokfrag.spec import PIPELINES

    fws, devs, modes, precs = ["pytorch", "tensorflow"], ["cpu", "gpu"], ["default", "compiled"], ["fp32", "bf16"]

    def picked(name, *values):
        full = f"{name}({', '.join(repr(v) for v in values)})"
        return any(re.search(r, full) for r in PERF_BENCHMARKS)

    modes_step = {c for c in itertools.product(fws, PIPELINES, devs, modes, precs)
                  if picked("bench_perf.Modes.time_train_step", *c)}
    assert {c for c in modes_step if c[1] != "video/fragment"} == {
        (fw, p, "cpu", "compiled", "fp32") for fw in fws for p in PIPELINES if p != "video/fragment"}
    assert {c for c in modes_step if c[1] == "video/fragment"} == {
        (fw, "video/fragment", "cpu", m, pr) for fw in fws for m in modes for pr in precs}
    mfu = {c for c in itertools.product(fws, PIPELINES, devs, modes, precs)
           if picked("bench_perf.Modes.track_mfu_train", *c)}
    assert {c[1] for c in mfu} == {"video/fragment"} and len(mfu) == 8
    acc = {c for c in itertools.product(fws, PIPELINES, devs, modes, precs)
           if picked("bench_perf.Accuracy.track_accuracy", *c)}
    assert acc == {(fw, "mnist/fragment", "cpu", "default", "bf16") for fw in fws}
    assert picked("bench_perf.Peak.track_peak_flops", "cpu", "bf16") \
        and not picked("bench_perf.Peak.track_peak_flops", "gpu", "fp32")
    assert picked("bench_perf.Scaling.time_train_step", "tensorflow", "token", 2)
    assert not picked("bench_pipelines.Training.track_accuracy", "pytorch", "mnist/fragment", "cpu")


def test_perf_with_bench_filters_is_a_usage_error(capsys):
    from tokfrag import cli

    assert cli.main(["bench", "--perf", "-b", "Step"]) == 2
    assert "--perf is a fixed selection" in capsys.readouterr().err


def test_user_error_is_one_line_and_exit_2(capsys):
    assert cli.main(["calibrate", "--steps", "0"]) == 2  # was exit 1 through SystemExit
    err = capsys.readouterr().err
    assert err == "tokfrag calibrate: error: --steps and --rounds must be at least 1\n"


def test_a_bug_is_a_traceback_and_exit_1():
    """Only user errors are caught: a ValueError (or anything else) from a command is a bug, shown whole."""
    bug = "import sys; from tokfrag import cli; cli.cmd_info = lambda args: int('a bug'); sys.exit(cli.main(['info']))"
    r = subprocess.run([sys.executable, "-c", bug], capture_output=True, text=True)
    assert r.returncode == 1 and "Traceback (most recent call last)" in r.stderr
    assert "ValueError: invalid literal for int()" in r.stderr and "tokfrag info: error" not in r.stderr


QUIET_SCRIPT = """
import numpy as np
from types import SimpleNamespace
from tokfrag import frameworks
pt = frameworks.get("pytorch")
frozen = np.zeros((4, 28, 28), np.uint8)
frozen.flags.writeable = False  # as the prepared splits are (memory-mapped Arrow data)
t = pt.Trainer.tensor(SimpleNamespace(device="cpu"), frozen)
y = pt.Trainer.labels(SimpleNamespace(device="cpu"), frozen[:, 0, 0])
tf = frameworks.get("tensorflow").preprocess
import tensorflow
print("sum", int(tensorflow.reduce_sum(tensorflow.ones((2, 2)))), int(t.sum()), str(y.dtype))
"""
NOISE = ("oneDNN", "absl", "not writable", "cpu_feature_guard", "I0000", "W0000", "E0000")


@pytest.mark.slow
@needs("pytorch", "tensorflow")
def test_frameworks_keep_quiet_unless_verbose():
    """tokfrag's output is its own: no TensorFlow start-up lines, no PyTorch warning on read-only arrays
    (fixed at its cause: implementations/pytorch/train.py copies them); $TOKFRAG_VERBOSE=1 lets
    TensorFlow's logs through."""
    import os

    env = {k: v for k, v in os.environ.items() if k not in ("TF_CPP_MIN_LOG_LEVEL", "TOKFRAG_VERBOSE")}
    r = subprocess.run([sys.executable, "-c", QUIET_SCRIPT], capture_output=True, text=True, env=env, timeout=600)
    assert r.returncode == 0, r.stderr[-3000:]
    assert r.stdout.strip() == "sum 4 0 torch.int64"
    assert not [line for line in r.stderr.splitlines() if any(n in line for n in NOISE)], r.stderr
    loud = subprocess.run([sys.executable, "-c", QUIET_SCRIPT], capture_output=True, text=True, timeout=600,
                          env=dict(env, TOKFRAG_VERBOSE="1"))
    assert loud.returncode == 0 and "sum 4" in loud.stdout
    assert "not writable" not in loud.stderr  # the cause is fixed, not hidden
    assert any(n in loud.stderr for n in ("oneDNN", "I0000", "cpu_feature_guard")), loud.stderr[-2000:]


def test_verbose_is_an_option_of_train_and_bench():
    for sub in ("train", "bench"):
        r = subprocess.run([sys.executable, "-m", "tokfrag.cli", sub, "--help"], capture_output=True, text=True)
        assert "--verbose" in r.stdout
