"""The leaderboard's table as CSV or JSON records, for pandas and other tools.

One record per row, in the page's order (per dataset, ranked). For each metric column ``k``:
``k`` (the value, mean over seeds; empty / null unless ok), ``k_sd``, ``k_n`` (seeds) and
``k_status`` (ok, skipped, failed, missing, not reached). ``pandas.read_csv`` reads the empty
cells as NaN.
"""

from __future__ import annotations

import csv
import io
import json

from .board import Board, parity_text
from .columns import COLUMNS, PARITY


def records(board: Board) -> list[dict]:
    out = []
    for dataset, rows in board.datasets().items():
        for rank, row in enumerate(rows, 1):
            rec = {"dataset": dataset, "rank": rank, **{k: row.params.get(k, "") for k in
                                                       ("pipeline", "framework", "device", *board.extra_params)},
                   "machine": row.machine, "commit": board.machines[row.machine].commit}
            for c in COLUMNS:
                cell = row.cells[c.key]
                rec.update({c.key: cell.mean, f"{c.key}_sd": cell.sd, f"{c.key}_n": cell.n,
                            f"{c.key}_status": cell.status})
            parity = row.cells[PARITY.key]
            rec.update(param_count=row.param_count, parity=parity_text(parity), parity_failed_checks=parity.mean)
            out.append(rec)
    return out


def to_json(board: Board) -> str:
    return json.dumps(records(board), indent=1, allow_nan=False) + "\n"


def to_csv(board: Board) -> str:
    recs = records(board)
    if not recs:  # a board of cost-scaling points only: no leaderboard row to export
        return ""
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=list(recs[0]), lineterminator="\n")
    writer.writeheader()
    writer.writerows(recs)
    return buf.getvalue()
