import os

import pytest

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from tokfrag import data, frameworks  # noqa: E402


@pytest.fixture(scope="session")
def mnist():
    """The prepared MNIST cache (prepared once; a no-op when it already is)."""
    data.prepare("mnist", quiet=True)
    return data.load("mnist")


def needs(*names):
    missing = [n for n in names if not frameworks.installed(n)]
    return pytest.mark.skipif(bool(missing), reason=f"{', '.join(missing)} not installed")
