"""The latest results of every machine -> leaderboard rows, cells and head-to-head pairs.

A row is one pipeline x framework x device (x any extra parameter a benchmark adds later, such
as ``mode`` or ``precision``) on one machine, at that machine's latest commit. A benchmark with
fewer parameters than a row (``Parity.track_parity`` has ``pipeline`` only) is broadcast to
every row that agrees with it. A parameter with a default (``PARAM_DEFAULTS``: the default
suite trains and times in ``mode=default``, ``precision=fp32``) is filled in where a benchmark
lacks it, so the accuracy of an fp32 run never shows on a bf16 row. A ``seed`` parameter is
never part of a row: its values are averaged (mean ± sd) and kept per seed, so that two rows are
compared seed by seed (``pairs``, ``tokfrag.stats``); asv's timing samples are kept likewise.

A benchmark whose parameters are exactly ``SCALING_PARAMS`` (``bench_perf.Scaling``: framework,
representation, window) makes no row: its step time, peak memory and sequence length become the
``ScalingPoint``s of ``Board.scaling``, which the page plots as cost against sequence length.

Everything read here is untrusted: a value outside its column's plausible range, an unknown
benchmark or a malformed file is skipped with a ``LeaderboardWarning`` naming the file.

Files: ``records`` (validation), ``defaults`` (defaulted parameters), ``aggregate`` (rows,
cells, machines), ``scaling`` (cost-scaling points), ``pairs`` (head to head), ``board``
(the data the page reads), ``verdicts`` (the sentences that open each section). This module
puts them together: ``build``.
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

from .. import results
from ..errors import LeaderboardError
from .aggregate import KEY_ORDER, make_machine, make_rows
from .board import Board, Cell, Duel, Machine, Row, ScalingPoint, parity_text
from .columns import BY_METHOD, PEAK, SCALING_COLUMNS
from .defaults import not_run, with_defaults
from .pairs import row_value, split_pipeline, tensorflow_vs_pytorch, token_vs_fragment
from .records import LeaderboardWarning, Record, latest, read_records
from .scaling import scaling_points

__all__ = ["BY_METHOD", "Board", "Cell", "Duel", "LeaderboardError", "LeaderboardWarning", "Machine", "Row",
           "ScalingPoint", "build", "parity_text", "row_value", "split_pipeline", "tensorflow_vs_pytorch",
           "token_vs_fragment"]


def build(results_dir: str | Path) -> Board:
    """The leaderboard of every machine's latest commit under ``results_dir``.

    Raises LeaderboardError when the folder is missing or holds no usable result.
    """
    results_dir = Path(results_dir)
    if not results_dir.is_dir():
        raise LeaderboardError(f"{results_dir}: no such results folder (run `tokfrag bench` first)")
    paths = results.files(results_dir)
    if not paths:
        raise LeaderboardError(f"{results_dir}: no results files (run `tokfrag bench` first)")
    meta = results.read_benchmarks(results_dir)
    machine_json = results.read_machines(results_dir)
    files = {str(f.path): f for f in map(results.read, paths) if f is not None}  # each file read once
    newest = latest([f.header() for f in files.values()])
    unique: dict[tuple, Record] = {}  # a later file of the same commit overrides an earlier one
    unique_scaling: dict[tuple, Record] = {}
    warned: set = set()
    records = [r for headers in newest.values() for h in headers
               for r in read_records(files[h["file"]].rows(), meta, warned)]
    peaks: dict[str, dict[str, float]] = defaultdict(dict)
    for r in records:
        if r.column is PEAK and r.status == "ok":
            p = dict(r.params)
            peaks[r.machine][f"{p.get('device', '')} {p.get('precision', '')}".strip()] = r.value
    records = [r for r in records if r.column is not PEAK]
    for r in with_defaults([r for r in records if r.column not in SCALING_COLUMNS]):
        key = (r.machine, r.column.key, r.params, r.seed)
        # bench_perf's default/fp32 combinations fill the same cells as the default suite's
        # benchmarks; where a partial run skipped them (NaN), the default suite's value stays
        if not (r.status == "skipped" and key in unique and unique[key].status == "ok"):
            unique[key] = r
    for r in records:
        if r.column in SCALING_COLUMNS:
            unique_scaling[(r.machine, r.column.key, r.params, r.seed)] = r
    rows = [row for row in make_rows(list(unique.values())) if not not_run(row)]
    scaling = scaling_points(list(unique_scaling.values()))
    if not rows and not scaling:
        raise LeaderboardError(f"{results_dir}: no usable leaderboard results (see the warnings above)")
    shown = {row.machine for row in rows} | {p.machine for p in scaling}
    machines = {name: make_machine(name, headers, machine_json.get(name, {}))
                for name, headers in sorted(newest.items()) if name in shown}
    for name, machine in machines.items():
        machine.peaks = dict(sorted(peaks.get(name, {}).items()))
    extra = sorted({k for row in rows for k in row.params} - set(KEY_ORDER))
    data: dict[str, dict[str, str]] = defaultdict(dict)
    for name, headers in newest.items():
        if name in machines:
            for key, value in headers[-1]["params"].items():
                if key.startswith(results.DATA_PREFIX) and value:
                    data[key[len(results.DATA_PREFIX):]][name] = value
    return Board(rows, machines, extra, scaling, dict(data))
