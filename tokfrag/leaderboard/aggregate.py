"""Aggregation: records -> one row per machine x parameters, one cell per column (mean ± sd
over seeds, each seed's value and asv's timing samples kept), and each machine's context."""

from __future__ import annotations

import itertools
import math
import statistics
from collections import defaultdict

from ..backbones import DEFAULT
from ..catalog import get_pipeline
from ..names import pipeline_name
from ..params import count as count_parameters
from .board import NO_SEED, Cell, Machine, Row
from .columns import COLUMNS, PARITY, WORKER_COLUMNS
from .defaults import ROW_PARAMS

KEY_ORDER = ("pipeline", "framework", "device")
# machine fields shown as context (asv also copies them into every results file's params)
MACHINE_FIELDS = ("cpu", "num_cpu", "ram", "gpu", "gpu_driver", "cuda", "os", "arch")
# packages whose versions are shown when a results file or machine.json records them
PACKAGES = ("torch", "torchvision", "timm", "tensorflow", "tensorflow-cpu", "keras", "numpy", "cudnn")


def aggregate(records: list) -> Cell:
    """One cell from the records of its seeds: mean ± sd of the ok ones, each seed's value kept
    (for pairing rows seed by seed) and asv's timing samples kept (for intervals of step times)."""
    if not records:
        return Cell("missing")
    link = records[0].link
    ok = [r for r in records if r.status == "ok"]
    if ok:
        values = [r.value for r in ok]
        return Cell("ok", statistics.fmean(values), statistics.stdev(values) if len(values) > 1 else None,
                    len(values), link, values={NO_SEED if r.seed is None else r.seed: r.value for r in ok},
                    samples=tuple(x for r in ok for x in r.samples),
                    excluded=next((r.excluded for r in ok if r.excluded), ""))
    return Cell("failed" if any(r.status == "failed" for r in records) else "skipped", link=link)


def param_count(pipeline: str, backbone: str = DEFAULT) -> int | None:
    name = pipeline_name(pipeline, backbone)
    try:
        return count_parameters(get_pipeline(name))
    except (KeyError, ValueError):  # a pipeline or backbone this checkout does not define
        return None


def _ordered(params: frozenset) -> dict[str, str]:
    d = dict(params)
    return {k: d[k] for k in sorted(d, key=lambda k: (KEY_ORDER.index(k) if k in KEY_ORDER else len(KEY_ORDER), k))}


def _subsets(params: frozenset) -> list[frozenset]:
    """Every subset of a row's parameters, largest first (at most 2**MAX_PARAMS)."""
    items = sorted(params)
    return [frozenset(c) for n in range(len(items), -1, -1) for c in itertools.combinations(items, n)]


def make_rows(records: list) -> list[Row]:
    keys = {(r.machine, r.params) for r in records
            if r.column is not PARITY and all(p in dict(r.params) for p in ROW_PARAMS)}
    # a key that another on the same machine extends is broadcast into it, not a row of its own
    keys -= {(m, sub) for m, params in keys for sub in _subsets(params)[1:]}
    by_key: dict[tuple, list] = defaultdict(list)  # one record per seed
    for r in records:
        by_key[(r.machine, r.column.key, r.params)].append(r)
    rows = []
    for machine, params in keys:
        subsets = _subsets(params)
        cells = {c.key: aggregate([r for sub in subsets for r in by_key.get((machine, c.key, sub), ())])
                 for c in COLUMNS + WORKER_COLUMNS + (PARITY,)}
        ttt = cells["time_to_target"]
        if ttt.status == "skipped" and cells["accuracy"].status == "ok":  # trained, never reached the target
            cells["time_to_target"] = Cell("not reached", link=ttt.link)
        ordered = _ordered(params)
        n_params = param_count(ordered["pipeline"], ordered.get("backbone", DEFAULT))
        commits = tuple(sorted({r.commit for sub in subsets for c in COLUMNS + WORKER_COLUMNS
                                for r in by_key.get((machine, c.key, sub), ()) if r.status == "ok"}))
        rows.append(Row(machine, ordered, cells, n_params, commits))
    return rows


def _date_ms(header: dict) -> float | None:
    d = header["date"]
    return d if isinstance(d, (int, float)) and not isinstance(d, bool) and math.isfinite(d) else None


def make_machine(name: str, headers: list[dict], machine_json: dict[str, str],
                 shown: list[dict] = ()) -> Machine:
    """The machine's context from its newest commit's ``headers``; ``shown``: the headers of every
    commit whose results the board shows (oldest first), the older ones listed in ``earlier``."""
    head = headers[-1]
    sources = (machine_json, head["params"], head["requirements"], head["env_vars"])
    fields = {}
    versions = {}
    for src in sources:
        for k, v in src.items():
            if k in MACHINE_FIELDS:
                fields.setdefault(k, v)
            package = k.split("+")[-1].lower()  # asv matrix keys may read "pip+torch"
            if package in PACKAGES and v:
                versions.setdefault(package, v)
    earlier = {}
    for h in reversed(shown):
        if h["commit"] != head["commit"]:
            earlier.setdefault(h["commit"], _date_ms(h))
    return Machine(name, head["commit"], _date_ms(head), fields, head["python"] or head["params"].get("python", ""),
                   versions, earlier=list(earlier.items()))
