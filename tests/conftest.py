import os
import shutil
import subprocess
from pathlib import Path

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


@pytest.fixture
def scratch_cache(tmp_path, monkeypatch):
    """An empty data cache of this test's own (TOKFRAG_DATA), so prepares here touch nothing else."""
    monkeypatch.setenv("TOKFRAG_DATA", str(tmp_path / "cache"))
    data.store._LOADED.clear()
    yield tmp_path / "cache"
    data.store._LOADED.clear()


def results_frame(results_dir):
    """Every results row under ``results_dir`` as a pandas DataFrame (tokfrag itself needs no pandas)."""
    import pandas as pd

    from tokfrag import results

    return pd.DataFrame([row for path in results.files(results_dir) for row in results.read_file(path)],
                        columns=results.COLUMNS)


REPO = Path(__file__).resolve().parents[1]


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
