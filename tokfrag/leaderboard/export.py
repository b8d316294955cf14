"""The leaderboard's table as CSV or JSON records, for pandas and other tools.

``records``: one record per row, in the page's order (per dataset, ranked). For each metric
column ``k``: ``k`` (the value, mean over seeds; empty / null unless ok), ``k_sd``, ``k_n``
(seeds), ``k_status`` (ok, skipped, failed, missing, not reached), ``k_values`` (every seed's
value: a JSON object ``{"0": 96.0, "1": 96.1}``, in CSV the string ``0:96.0;1:96.1``; the seed
is ``default`` for a benchmark without a seed parameter) and ``k_spread`` (the relative
interquartile range of asv's timing samples, null without three of them), ``k_excluded`` (the
reason ``results/annotations.toml`` keeps the value off the page's rankings, plots and verdicts;
empty when it does not: the value itself stays in the export). ``pandas.read_csv``
reads the empty cells as NaN.

``duels``: one record per head-to-head pair of the page: ``comparison`` (token_vs_fragment or
tensorflow_vs_pytorch), ``a`` and ``b`` (the sides' names, as in the verdicts), ``pipeline_a``,
``pipeline_b``, ``framework_a``, ``framework_b``, ``device`` and any extra row parameter,
``machine``; then ``accuracy_diff`` (a - b in points, the mean of the per-seed differences),
``accuracy_lo``/``accuracy_hi`` (its 95% interval, null with one seed), ``accuracy_seeds`` (the
pairs), ``accuracy_verdict``, ``time_ratio`` (a's time over b's: above 1, a is slower),
``time_lo``/``time_hi``, ``time_source`` ("step samples", or "throughput": then no interval),
``time_noisy`` and ``speed_verdict``: the words the page shows. ``tokfrag publish --format
duels-csv|duels-json`` writes them.
"""

from __future__ import annotations

import csv
import io
import json

from .board import Board, Duel, parity_text, seed_order
from .columns import COLUMNS, PARITY, WORKER_COLUMNS
from .pairs import COMPARISONS


def _values(values: dict[str, float]) -> dict[str, float]:
    return {k: values[k] for k in sorted(values, key=seed_order)}


def records(board: Board) -> list[dict]:
    out = []
    for dataset, rows in board.datasets().items():
        for rank, row in enumerate(rows, 1):
            rec = {"dataset": dataset, "rank": rank, **{k: row.params.get(k, "") for k in
                                                       ("pipeline", "framework", "device", *board.extra_params)},
                   "machine": row.machine,
                   "commit": " ".join(row.commits) or board.machines[row.machine].commit}
            for c in COLUMNS + WORKER_COLUMNS:
                cell = row.cells[c.key]
                rec.update({c.key: cell.mean, f"{c.key}_sd": cell.sd, f"{c.key}_n": cell.n,
                            f"{c.key}_status": cell.status, f"{c.key}_values": _values(cell.values),
                            f"{c.key}_spread": cell.spread, f"{c.key}_excluded": cell.excluded})
            parity = row.cells[PARITY.key]
            rec.update(param_count=row.param_count, parity=parity_text(parity), parity_failed_checks=parity.mean)
            out.append(rec)
    return out


def _duel(dataset: str, comparison: str, d: Duel, extra: list[str]) -> dict:
    acc, step = d.accuracy, d.step
    source = "step samples" if step is not None else "throughput" if d.time_ratio is not None else ""
    return {
        "dataset": dataset, "comparison": comparison, "a": d.names[0], "b": d.names[1],
        "pipeline_a": d.a.pipeline, "pipeline_b": d.b.pipeline,
        "framework_a": d.a.params.get("framework", ""), "framework_b": d.b.params.get("framework", ""),
        **{k: d.a.params.get(k, "") for k in ("device", *extra)}, "machine": d.a.machine,
        "accuracy_diff": d.accuracy_diff if acc is None else acc.estimate,
        "accuracy_lo": None if acc is None else acc.lo, "accuracy_hi": None if acc is None else acc.hi,
        "accuracy_seeds": 0 if acc is None else acc.n, "accuracy_verdict": d.accuracy_verdict,
        "time_ratio": d.time_ratio, "time_lo": None if step is None else step.lo,
        "time_hi": None if step is None else step.hi, "time_source": source,
        "time_noisy": step is not None and step.noisy, "speed_verdict": d.speed_verdict,
    }


def duels(board: Board) -> list[dict]:
    """Every head-to-head pair of the page, with its intervals and verdicts."""
    out = []
    for dataset, rows in board.datasets().items():
        for comp in COMPARISONS:
            out += [_duel(dataset, comp.key, d, board.extra_params) for d in comp.pairs(rows)
                    if d.accuracy_diff is not None or d.time_ratio is not None]
    return out


def _json(recs: list[dict]) -> str:
    return json.dumps(recs, indent=1, allow_nan=False) + "\n"


def _cell(v):
    """A CSV cell: per-seed values as ``seed:value;...``."""
    return ";".join(f"{k}:{x!r}" for k, x in v.items()) if isinstance(v, dict) else v


def _csv(recs: list[dict]) -> str:
    if not recs:  # a board of cost-scaling points only: no leaderboard row to export
        return ""
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=list(recs[0]), lineterminator="\n")
    writer.writeheader()
    writer.writerows({k: _cell(v) for k, v in r.items()} for r in recs)
    return buf.getvalue()


def to_json(board: Board) -> str:
    return _json(records(board))


def to_csv(board: Board) -> str:
    return _csv(records(board))


def duels_to_json(board: Board) -> str:
    return _json(duels(board))


def duels_to_csv(board: Board) -> str:
    return _csv(duels(board))


def curves_to_json(board: Board) -> str:
    """Every run's learning curve (``tokfrag.curves``: one record per run with its machine, commit, pipeline,
    scale point, seed, final accuracy, parameters, training FLOPs and ``curve``, the evaluations along it)."""
    return _json(board.curves)
