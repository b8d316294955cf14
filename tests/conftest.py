"""Fixtures, hooks and options (``--fast``) only; what the test modules share is in helpers.py."""

import os

import pytest

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from tokfrag import data  # noqa: E402


@pytest.fixture(scope="session")
def mnist():
    """The prepared MNIST cache (prepared once; a no-op when it already is)."""
    data.prepare("mnist", quiet=True)
    return data.load("mnist")


@pytest.fixture
def scratch_cache(tmp_path, monkeypatch):
    """An empty data cache of this test's own (TOKFRAG_DATA), so prepares here touch nothing else."""
    monkeypatch.setenv("TOKFRAG_DATA", str(tmp_path / "cache"))
    data.store._LOADED.clear()
    yield tmp_path / "cache"
    data.store._LOADED.clear()


# --- test tiers: `make test-fast` (pytest --fast) --------------------------------------------
# What the fast tier keeps: everything but the `slow` and `browser` tests, and of a test parametrized
# over the registered pipelines (parity, every pipeline under every backbone) only FAST_PIPELINE's case.
FAST_PIPELINE = "mnist/fragment"


def pytest_addoption(parser):
    parser.addoption("--fast", action="store_true",
                     help="the fast tier (make test-fast): no slow or browser tests, and tests parametrized over "
                          f"pipelines run for {FAST_PIPELINE} only")


def pytest_collection_modifyitems(config, items):
    if not config.getoption("--fast"):
        return
    keep, drop = [], []
    for item in items:
        params = getattr(getattr(item, "callspec", None), "params", {})
        slow = item.get_closest_marker("slow") or item.get_closest_marker("browser")
        other_pipeline = "pipeline" in params and params["pipeline"] != FAST_PIPELINE
        (drop if slow or other_pipeline else keep).append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep
