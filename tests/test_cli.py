import subprocess
import sys


from tokfrag import cli

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
    monkeypatch.setattr("tokfrag.machine.gpu_info", lambda smi=None: {"name": "NVIDIA H200", "driver": "1", "cuda": "13"})
    assert cli.machine_name().endswith("-H200")
    monkeypatch.setattr("tokfrag.machine.gpu_info", lambda smi=None: None)
    assert "H200" not in cli.machine_name()
