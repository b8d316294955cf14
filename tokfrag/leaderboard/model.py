"""The latest results of every machine -> leaderboard rows, cells and head-to-head pairs.

A row is one pipeline x framework x device (x any extra parameter a benchmark adds later, such
as ``mode`` or ``precision``) on one machine; each of its cells comes from the newest commit that
measured it there (``make bench`` then ``make bench-backbones`` at a later commit shows both). A benchmark with
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
(the data the page reads), ``view`` (the answer grids, per-machine ranking, verdict rows),
``writeup`` (Markdown from the results). ``tokfrag.annotations`` marks excluded values. This
module puts them together: ``build``.
"""

from __future__ import annotations

import warnings
from collections import defaultdict
from dataclasses import replace
from pathlib import Path

from .. import annotations, curves, results
from ..errors import LeaderboardError
from .aggregate import KEY_ORDER, make_machine, make_rows
from .board import Board, Cell, Duel, Machine, Row, ScalingPoint, parity_text
from .columns import BY_METHOD, PEAK, SCALING_COLUMNS
from .defaults import not_run, with_defaults
from .pairs import row_value, tensorflow_vs_pytorch, token_vs_fragment
from .records import LeaderboardWarning, Record, by_machine, data_clashes, read_records
from .scaling import scaling_points

__all__ = ["BY_METHOD", "Board", "Cell", "Duel", "LeaderboardError", "LeaderboardWarning", "Machine", "Row",
           "ScalingPoint", "build", "parity_text", "row_value", "tensorflow_vs_pytorch",
           "token_vs_fragment"]


def _on_the_same_data(headers: list[dict], newest: list[dict], files: dict) -> list[dict]:
    """The headers of a machine whose results may stand beside its newest commit's: the newest
    commit's own, and every older one measured on the same data (a dataset both record with
    different fingerprints keeps the older file off the board, with a warning)."""
    ref: dict[str, str] = {}
    for h in newest:
        ref.update(files[h["file"]].data_fingerprints())
    out = []
    for h in headers:
        clash = [] if h in newest else data_clashes(ref, files[h["file"]].data_fingerprints())
        if clash:
            warnings.warn(f"{h['file']}: measured on other data than {h['machine']}'s latest commit "
                          f"({', '.join(clash)}); its results are not shown", LeaderboardWarning, stacklevel=3)
            continue
        out.append(h)
    return out


def _newest_cells(records: list[Record]) -> list[Record]:
    """Each cell (machine, column, parameters) from the newest commit that ran it.

    Records come oldest commit first. Within one commit a later file overrides an earlier one seed
    by seed; a newer commit replaces a cell with all its seeds (one cell never mixes commits).
    A combination that a newer commit skipped (NaN: a partial run, ``asv -b``, did not select it,
    or bench_perf's default/fp32 combinations that a partial run left out) keeps the older
    commit's results, so that ``make bench-backbones`` after ``make bench`` adds to the board."""
    by_commit: dict[tuple, dict[str, dict]] = defaultdict(dict)  # (machine, commit) -> key -> seed -> record
    order: list[tuple] = []
    for r in records:
        at = (r.machine, r.commit)
        if at not in by_commit:
            order.append(at)
        seeds = by_commit[at].setdefault((r.column.key, r.params), {})
        if not (r.status == "skipped" and r.seed in seeds and seeds[r.seed].status == "ok"):
            seeds[r.seed] = r
    cells: dict[tuple, dict] = {}
    for at in order:
        for key, seeds in by_commit[at].items():
            old = cells.get((at[0], key))
            ran = any(r.status != "skipped" for r in seeds.values())
            if old is None or ran or not any(r.status == "ok" for r in old.values()):
                cells[(at[0], key)] = seeds
    return [r for seeds in cells.values() for r in seeds.values()]


def build(results_dir: str | Path) -> Board:
    """The leaderboard of every machine under ``results_dir``: each cell from the newest commit
    that measured it (a partial run adds to the board instead of hiding what it did not run).

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
    every = by_machine([f.header() for f in files.values()])
    newest = {m: [h for h in hs if h["commit"] == hs[-1]["commit"]] for m, hs in every.items()}
    shown_files = {m: _on_the_same_data(hs, newest[m], files) for m, hs in every.items()}
    warned: set = set()
    records = with_defaults([r for hs in shown_files.values() for h in hs
                             for r in read_records(files[h["file"]].rows(), meta, warned, h in newest[h["machine"]])
                             if "scale" not in dict(r.params)])  # bench_scale: its curves (Board.curves) tell it
    notes = annotations.read(results_dir)
    records = [replace(r, excluded=notes.excluded(r.machine, r.commit, r.column.method, dict(r.params), r.column.key))
               for r in records]
    peaks: dict[str, dict[str, float]] = defaultdict(dict)
    for r in _newest_cells([r for r in records if r.column is PEAK]):
        if r.status == "ok" and not r.excluded:
            p = dict(r.params)
            peaks[r.machine][f"{p.get('device', '')} {p.get('precision', '')}".strip()] = r.value
    cells = _newest_cells([r for r in records if r.column is not PEAK and r.column not in SCALING_COLUMNS])
    scaling_records = _newest_cells([r for r in records if r.column in SCALING_COLUMNS])
    rows = [row for row in make_rows(cells) if not not_run(row)]
    scaling = scaling_points(scaling_records)
    if not rows and not scaling:
        raise LeaderboardError(f"{results_dir}: no usable leaderboard results (see the warnings above)")
    kept = curves.read(results_dir)
    shown = {row.machine for row in rows} | {p.machine for p in scaling} | {c["machine"] for c in kept}
    commits = defaultdict(set)  # machine -> the commits of the results it shows
    for r in cells + scaling_records:
        if r.status == "ok":
            commits[r.machine].add(r.commit)
    for c in kept:  # a machine of the scale grid only: the commits of its curves' results
        commits[c["machine"]].update(h["commit"] for h in every.get(c["machine"], [])
                                     if h["commit"].startswith(c["commit"]))
    machines = {name: make_machine(name, headers, machine_json.get(name, {}),
                                   [h for h in every[name] if h["commit"] in commits[name]])
                for name, headers in sorted(newest.items()) if name in shown}
    for name, machine in machines.items():
        machine.peaks = dict(sorted(peaks.get(name, {}).items()))
    extra = sorted({k for row in rows for k in row.params} - set(KEY_ORDER))
    data: dict[str, dict[str, str]] = defaultdict(dict)
    for name, headers in shown_files.items():
        if name in machines:
            for h in headers:  # oldest first: the newest commit's fingerprint of a dataset stays
                for key, value in h["params"].items():
                    if key.startswith(results.DATA_PREFIX) and value:
                        data[key[len(results.DATA_PREFIX):]][name] = value
    return Board(rows, machines, extra, scaling, dict(data), curves=kept)
