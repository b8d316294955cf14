"""Parameters with a default: what a benchmark without the parameter measured.

The default suite (bench_pipelines) trains and times in ``mode=default``, ``precision=fp32``,
with the ``transformer`` backbone, on one worker; bench_perf has the first two parameters,
bench_backbones the third, bench_workers the fourth. A record lacking one gets the default where
any row-making record has it, so the accuracy of an fp32 run never shows on a bf16 row, nor a
transformer's on a cnn row.
"""

from __future__ import annotations

from dataclasses import replace

from ..backbones import DEFAULT
from .board import Row
from .columns import PARITY

ROW_PARAMS = ("pipeline", "framework")  # a benchmark with both makes rows; others are broadcast
PARAM_DEFAULTS = {"mode": "default", "precision": "fp32", "backbone": DEFAULT, "workers": "1"}
# Parity is a property of the pipeline (broadcast to every framework, device, mode and precision),
# but bench_parity checks the transformer only: it gets this default and no other.
PARITY_DEFAULTS = ("backbone",)


def with_defaults(records: list) -> list:
    """Records with each defaulted parameter that any row-making record has filled in where they
    lack it (parity, a property of the pipeline, stays broadcast to every row)."""
    present = {k for r in records if all(p in dict(r.params) for p in ROW_PARAMS)
               for k, _ in r.params if k in PARAM_DEFAULTS}
    out = []
    for r in records:
        missing = {(k, PARAM_DEFAULTS[k]) for k in present if k not in dict(r.params)
                   and (r.column is not PARITY or k in PARITY_DEFAULTS)}
        out.append(replace(r, params=r.params | missing) if missing else r)
    return out


def not_run(row: Row) -> bool:
    """A row of a non-default mode or precision with no result at all: a combination that a
    partial run (`tokfrag bench --perf`, asv -b) did not select, which asv stores as skipped.
    (A default row that skipped everything stays: that is a device or framework missing here.)"""
    extra = any(row.params.get(k, d) != d for k, d in PARAM_DEFAULTS.items())
    return extra and all(c.status in ("missing", "skipped") for k, c in row.cells.items() if k != PARITY.key)


def other_workers(row: Row) -> bool:
    """A row of several data-parallel workers: shown in its dataset's scaling table only (the
    board's columns are one worker's)."""
    return row.params.get("workers", PARAM_DEFAULTS["workers"]) != PARAM_DEFAULTS["workers"]
