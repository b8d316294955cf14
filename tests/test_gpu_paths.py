"""The GPU code paths, exercised on a CPU-only machine: device selection, skip reasons,
synchronisation, out-of-memory back-off and machine identity."""

import json
import os
import stat

import pytest

from helpers import needs
from tokfrag import frameworks, machine, training
from tokfrag.spec import get_pipeline, with_overrides


@needs("pytorch")
def test_torch_device_selection(monkeypatch):
    import torch

    from implementations.pytorch import select_device

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.raises(frameworks.DeviceUnavailable, match="torch.cuda.is_available"):
        select_device("gpu")
    assert isinstance(frameworks.DeviceUnavailable("x"), NotImplementedError)  # asv records it as skipped
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert select_device("gpu") == torch.device("cuda", 0)
    assert select_device("cpu") == torch.device("cpu")


@needs("tensorflow")
def test_tensorflow_device_selection(monkeypatch):
    import tensorflow as tf

    from implementations.tensorflow import select_device

    monkeypatch.setattr(tf.config, "list_physical_devices", lambda kind=None: [])
    with pytest.raises(frameworks.DeviceUnavailable, match="list_physical_devices"):
        select_device("gpu")
    monkeypatch.setattr(tf.config, "list_physical_devices", lambda kind=None: ["GPU:0"])
    assert select_device("gpu") == "/GPU:0" and select_device("cpu") == "/CPU:0"


@needs("pytorch")
def test_gpu_skips_with_reason_in_the_suite_and_machine_report(monkeypatch):
    import torch

    from benchmarks import bench_pipelines, common

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.raises(NotImplementedError, match="no GPU"):
        common.check_runnable("pytorch", "gpu")
    with pytest.raises(NotImplementedError, match="host memory"):
        bench_pipelines.DeviceMemory().setup("pytorch", "mnist/token", "cpu")
    report = machine.device_report()
    assert report["pytorch"]["cpu"] == "available"
    assert report["pytorch"]["gpu"].startswith("skipped: no GPU")


@needs("pytorch")
def test_sync_synchronises_cuda(monkeypatch, mnist):
    import torch

    calls = []
    trainer, _ = training.make_trainer("pytorch", get_pipeline("mnist/fragment"))
    monkeypatch.setattr(torch.cuda, "synchronize", lambda device=None: calls.append(device))
    trainer.device = torch.device("cuda", 0)
    trainer.sync()
    assert calls == [torch.device("cuda", 0)]


def test_backoff_halves_until_it_fits():
    class OOM(Exception):
        pass

    tried = []

    def run(spec):
        tried.append(spec.train.batch_size)
        if spec.train.batch_size > 16:
            raise OOM("out of memory")
        return "ok"

    spec = with_overrides(get_pipeline("mnist/token"), batch_size=64)
    result, used = training.with_oom_backoff(run, spec, (OOM,), log=lambda m: None)
    assert result == "ok" and used.train.batch_size == 16 and tried == [64, 32, 16]
    with pytest.raises(OOM):
        training.with_oom_backoff(lambda s: (_ for _ in ()).throw(OOM()), with_overrides(spec, batch_size=1),
                                  (OOM,), log=lambda m: None)


@needs("pytorch")
def test_training_backs_off_on_torch_oom(monkeypatch, mnist):
    import torch

    from implementations.pytorch import Trainer

    real = Trainer.train_step

    def step(self, x, y, lr):
        if x.shape[0] > 16:
            raise torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB")
        return real(self, x, y, lr)

    monkeypatch.setattr(Trainer, "train_step", step)
    spec = with_overrides(get_pipeline("mnist/fragment"), epochs=1, batch_size=64)
    result = training.train("pytorch", spec, progress=False)
    assert result["batch_size"] == 16 and result["accuracy"] > 0


@needs("tensorflow")
def test_tensorflow_oom_type_is_caught(mnist):
    import tensorflow as tf

    from implementations.tensorflow import OOM_ERRORS

    spec = with_overrides(get_pipeline("mnist/token"), batch_size=8)

    def run(s):
        if s.train.batch_size > 2:
            raise tf.errors.ResourceExhaustedError(None, None, "OOM when allocating tensor")
        return s.train.batch_size

    assert training.with_oom_backoff(run, spec, OOM_ERRORS, log=lambda m: None)[0] == 2


def fake_smi(tmp_path):
    script = tmp_path / "nvidia-smi"
    script.write_text(
        "#!/bin/sh\n"
        'if [ "$1" = "--query-gpu=name,driver_version" ]; then echo "NVIDIA H200, 570.86.15"; exit 0; fi\n'
        'echo "| NVIDIA-SMI 570.86.15    Driver Version: 570.86.15    CUDA Version: 12.8 |"\n')
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    return str(script)


def test_gpu_identity_from_nvidia_smi(tmp_path, monkeypatch):
    info = machine.gpu_info(fake_smi(tmp_path))
    assert info == {"name": "NVIDIA H200", "driver": "570.86.15", "cuda": "12.8"}
    assert machine.gpu_info(str(tmp_path / "missing")) is None
    monkeypatch.setenv("PATH", str(tmp_path) + os.pathsep + os.environ["PATH"])
    assert machine.machine_name().endswith("-H200")
    assert machine.describe()["gpu"]["name"] == "NVIDIA H200"


def test_machine_extras_reach_asv_machine_file(tmp_path):
    path = tmp_path / "asv-machine.json"
    path.write_text(json.dumps({"version": 1, "box": {"machine": "box", "cpu": "x"}}))
    machine.annotate_asv_machine("box", {"gpu": "NVIDIA H200", "cuda": "12.8"}, path=str(path))
    doc = json.loads(path.read_text())
    assert doc["box"] == {"machine": "box", "cpu": "x", "gpu": "NVIDIA H200", "cuda": "12.8"}
    assert doc["version"] == 1
