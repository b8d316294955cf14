"""Every ``TOKFRAG_*`` environment variable, declared once: name, meaning, default, who sets it, and
one typed accessor each. Nothing else in tokfrag, the asv suite or gpu/ reads or writes them by name.

Why the environment: ``tokfrag bench`` runs asv, and asv runs each benchmark in a fresh process that
imports the suite (benchmarks/); the environment is what reaches those processes, the workers of a
data-parallel group and the two sides of ``tokfrag bench --against``. The command-line options set
them (``--seeds``, ``--dataset``, ``--smoke``, ``--verbose``); the rest are for you (``TOKFRAG_DATA``,
``TOKFRAG_THREADS``, ``TOKFRAG_WEB_ASSETS``) or for tokfrag's own child processes.
docs/configuration.md describes them; ``tokfrag info`` lists them with their current values.

Standard library only: gpu/run.py reads its own variables here before tokfrag is installed.
"""

from __future__ import annotations

import os
from collections.abc import MutableMapping
from dataclasses import dataclass
from pathlib import Path

Env = MutableMapping[str, str]


@dataclass(frozen=True)
class Variable:
    name: str
    meaning: str
    default: str  # what holds while it is unset, in words
    set_by: str  # who sets it

    def raw(self, env: Env | None = None) -> str:
        """Its text in ``env`` (default: this process's environment); "" when unset."""
        return (os.environ if env is None else env).get(self.name, "")

    def required(self, env: Env | None = None) -> str:
        """Its text; KeyError when unset (for variables that a parent process always sets)."""
        return (os.environ if env is None else env)[self.name]

    def set(self, value, env: Env | None = None) -> None:
        """Set it in ``env`` (default: this process's environment, inherited by its children)."""
        (os.environ if env is None else env)[self.name] = str(value)


DEFAULT_SEEDS = 3  # the fewest that give an interval

DATA = Variable(
    "TOKFRAG_DATA", "the prepared-data cache: datasets, codebooks, sources of one's own, training-run records",
    "datasets/cache of the checkout, else ~/.cache/tokfrag/datasets",
    "you; tokfrag bench --against (one cache for both sides); gpu/run.py (the carried checkout's)")
DATASETS = Variable(
    "TOKFRAG_DATASETS", "comma-separated datasets (embedded or of one's own) whose pipelines make the suite's "
    "pipeline parameter (benchmarks/common.py, at import)",
    "the embedded datasets",
    "tokfrag bench --dataset NAME (repeatable); gpu/run.py (the datasets of its pipelines)")
RUN = Variable(
    "TOKFRAG_RUN", "the benchmark session: benchmarks of one session share one training run per combination "
    "and seed (tokfrag.runs)",
    "the identity of the asv process that launched the benchmark",
    "tokfrag bench (afresh each run); each side of tokfrag bench --against; gpu/run.py")
SEEDS = Variable(
    "TOKFRAG_SEEDS", "training seeds per combination: the suite's seed parameter is 0 .. N-1",
    str(DEFAULT_SEEDS),
    "tokfrag bench --seeds N (make bench SEEDS=N); gpu/run.py (1)")
SMOKE = Variable(
    "TOKFRAG_SMOKE", "1: one training epoch per run, the smoke budget (benchmarks/common.py)",
    "each pipeline's full training budget",
    "tokfrag bench --smoke; tokfrag bench --against --smoke; gpu/run.py --smoke")
THREADS = Variable(
    "TOKFRAG_THREADS", "threads each framework uses (PyTorch's; TensorFlow's intra-op, inter-op at most 2)",
    "the cores this process may use",
    "you (docs/ci pins 1); tokfrag.workers (each worker of a group)")
VERBOSE = Variable(
    "TOKFRAG_VERBOSE", "1: show the frameworks' own logs and warnings (tokfrag.frameworks.quiet)",
    "tokfrag's lines only",
    "tokfrag train --verbose; tokfrag bench --verbose")
WEB_ASSETS = Variable(
    "TOKFRAG_WEB_ASSETS", "the node_modules folder holding the scripts asv's pages load (offline pages)",
    "web/node_modules of the checkout (make setup)",
    "you")
PROBE_OUT = Variable(
    "TOKFRAG_PROBE_OUT", "the file where tokfrag bench --against's import probe writes where asv's benchmark "
    "processes import tokfrag from (the probe imports no tokfrag, so it names the variable itself)",
    "none (set for the probe's process only)",
    "tokfrag bench --against (tokfrag.continuous.check_imports)")
GPU_SITE = Variable(
    "TOKFRAG_GPU_SITE", "gpu/run.py: the folder it installed the carried wheels and tokfrag into; set, the "
    "script has installed and runs from there",
    "gpu/run.py has not installed anything yet",
    "gpu/run.py, for its own re-run")
GPU_START = Variable(
    "TOKFRAG_GPU_START", "gpu/run.py: when it first started (seconds since the epoch), so that its time "
    "budget counts from then across its re-run",
    "gpu/run.py counts from this process's start",
    "gpu/run.py, for its own re-run")
COMMIT_SHA = Variable(
    "TOKFRAG_COMMIT_SHA", "gpu/asv_carried.py: the commit asv records, on a lent machine without git history",
    "none (gpu/asv_carried.py requires it)",
    "gpu/run.py")
COMMIT_DATE_MS = Variable(
    "TOKFRAG_COMMIT_DATE_MS", "gpu/asv_carried.py: that commit's date (milliseconds since the epoch)",
    "none (gpu/asv_carried.py requires it)",
    "gpu/run.py")

VARIABLES = (DATA, DATASETS, RUN, SEEDS, SMOKE, THREADS, VERBOSE, WEB_ASSETS, PROBE_OUT, GPU_SITE, GPU_START,
             COMMIT_SHA, COMMIT_DATE_MS)


# --- accessors: one per variable ---------------------------------------------------------------

def data_dir(env: Env | None = None) -> Path | None:
    """$TOKFRAG_DATA; None when unset (``tokfrag.data.cache_root`` then picks the default)."""
    raw = DATA.raw(env)
    return Path(raw) if raw else None


def datasets(env: Env | None = None) -> list[str]:
    """$TOKFRAG_DATASETS as names, in order, once each; [] when unset (the embedded datasets)."""
    return list(dict.fromkeys(n.strip() for n in DATASETS.raw(env).split(",") if n.strip()))


def run_id() -> str | None:
    """$TOKFRAG_RUN; None when unset."""
    return RUN.raw() or None


def seeds() -> int:
    """$TOKFRAG_SEEDS, else DEFAULT_SEEDS; ValueError unless a whole number, 1 or more."""
    raw = SEEDS.raw()
    try:
        n = int(raw) if raw else DEFAULT_SEEDS
    except ValueError:
        raise ValueError(f"{SEEDS.name}={raw!r}: expected a whole number of seeds, 1 or more") from None
    if n < 1:
        raise ValueError(f"{SEEDS.name}={raw!r}: expected a whole number of seeds, 1 or more")
    return n


def smoke() -> bool:
    """Whether $TOKFRAG_SMOKE is 1."""
    return SMOKE.raw() == "1"


def threads() -> int | None:
    """$TOKFRAG_THREADS as a number; None when unset (``tokfrag.frameworks.threads`` then uses the cores)."""
    raw = THREADS.raw()
    return int(raw) if raw else None


def verbose() -> bool:
    """Whether $TOKFRAG_VERBOSE is 1."""
    return VERBOSE.raw() == "1"


def web_assets() -> Path | None:
    """$TOKFRAG_WEB_ASSETS; None when unset."""
    raw = WEB_ASSETS.raw()
    return Path(raw) if raw else None


def probe_out() -> Path | None:
    """$TOKFRAG_PROBE_OUT; None when unset."""
    raw = PROBE_OUT.raw()
    return Path(raw) if raw else None


def gpu_site() -> Path | None:
    """$TOKFRAG_GPU_SITE; None when unset."""
    raw = GPU_SITE.raw()
    return Path(raw) if raw else None


def gpu_start() -> float | None:
    """$TOKFRAG_GPU_START as seconds since the epoch; None when unset."""
    raw = GPU_START.raw()
    return float(raw) if raw else None


def commit_sha() -> str:
    """$TOKFRAG_COMMIT_SHA; KeyError when unset."""
    return COMMIT_SHA.required()


def commit_date_ms() -> int:
    """$TOKFRAG_COMMIT_DATE_MS; KeyError when unset."""
    return int(COMMIT_DATE_MS.required())
