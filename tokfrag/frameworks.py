"""Lazy registry of the framework implementations.

``get("pytorch")`` imports ``implementations.pytorch`` (and so torch) only when asked;
choosing one framework never imports the other. Each implementation package exposes the
same names, listed by ``tokfrag.trainer.Framework``: ``Trainer`` (a ``tokfrag.trainer.Trainer``),
``preprocess`` and ``model`` (modules), ``select_device``, ``versions()``...
"""

from __future__ import annotations

import importlib
import importlib.util
import logging
import os

from . import config
from .errors import UnknownName

FRAMEWORKS = {
    "pytorch": ("implementations.pytorch", "torch"),
    "tensorflow": ("implementations.tensorflow", "tensorflow"),
}
DEVICES = ("cpu", "gpu")


class Unavailable(NotImplementedError):
    """A combination that cannot run here. asv records a NotImplementedError raised in
    setup() as *skipped*, so raising this skips the combination with its reason."""


class FrameworkMissing(Unavailable):
    pass


class DeviceUnavailable(Unavailable):
    pass


def check_name(framework: str) -> None:
    if framework not in FRAMEWORKS:
        raise UnknownName(f"unknown framework {framework!r}; valid frameworks: {', '.join(FRAMEWORKS)}")


def installed(framework: str) -> bool:
    """Whether the framework's package is importable, without importing it."""
    check_name(framework)
    return importlib.util.find_spec(FRAMEWORKS[framework][1]) is not None


def threads() -> int:
    """Threads each framework uses: $TOKFRAG_THREADS, else the cores this process may use."""
    n = config.threads()
    if n is not None:
        return n
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def require_device(device: str) -> None:
    """Fail fast, before importing any framework, when ``device`` is "gpu" and this machine
    has no NVIDIA device at all (the frameworks' own checks follow in select_device)."""
    import glob
    import shutil

    if device == "gpu" and not (shutil.which("nvidia-smi") or glob.glob("/dev/nvidia[0-9]*")):
        raise DeviceUnavailable("no GPU: no NVIDIA device on this machine (no nvidia-smi, no /dev/nvidia*)")


def gpu_count() -> int:
    """NVIDIA devices on this machine (``/dev/nvidia0``, ``/dev/nvidia1``, ...), without importing a framework."""
    import glob

    return len(glob.glob("/dev/nvidia[0-9]*"))


# the frameworks' Python warnings hidden by quiet() (their C++ logs are hidden through the environment)
QUIET_MODULES = ("tensorflow", "keras", "tf_keras", "absl", "torch", "timm", "torch_geometric", "google.protobuf")


def quiet() -> None:
    """Keep the frameworks' start-up logs (TensorFlow's oneDNN and absl lines, gRPC's) and Python warnings
    out of tokfrag's output, unless $TOKFRAG_VERBOSE is 1; then TensorFlow logs everything. Runs before a
    framework is imported (``get``): TensorFlow reads its log level from the environment once, at import.
    The environment carries the choice into asv's benchmark processes and the workers of a group."""
    import warnings

    if config.verbose():
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "0")
        return
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")  # INFO (oneDNN), WARNING and absl's ERROR start-up lines
    os.environ.setdefault("GRPC_VERBOSITY", "ERROR")
    for module in QUIET_MODULES:
        warnings.filterwarnings("ignore", module=module)
    # absl (TensorFlow's logging library) logs through Python's "absl" logger: quieted without importing it,
    # so the core imports nothing that only TensorFlow brings
    logging.getLogger("absl").setLevel(logging.ERROR)


def get(framework: str):
    """Import and return the implementation package; FrameworkMissing if not installed."""
    check_name(framework)
    quiet()
    if not installed(framework):
        raise FrameworkMissing(f"{framework} is not installed ({FRAMEWORKS[framework][1]} missing)")
    return importlib.import_module(FRAMEWORKS[framework][0])
