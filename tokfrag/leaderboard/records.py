"""Validation: a results file's rows -> the leaderboard's records; anything implausible is
skipped with a ``LeaderboardWarning`` naming the file (results folders merge many machines).

A record keeps asv's timing samples (``--record-samples``) where the row has them: the step-time
verdicts and the noisy flag are computed from them. A sample list with an implausible entry is
dropped (the value stays) with a warning: an interval from a corrupted list would mislead.
"""

from __future__ import annotations

import math
import warnings
from collections import defaultdict
from dataclasses import dataclass
from urllib.parse import quote

from .. import results
from .columns import BY_METHOD, PARITY, PEAK, SCALING_BY_METHOD, SCALING_UNITS, Column
from .scaling import MAX_WINDOW, is_scaling, window_pixels

SEED = "seed"  # averaged over (mean ± sd), never part of a row
# Benchmarks the page shows another way: not warned about as unknown.
SHOWN_ELSEWHERE = {"track_params": "the Params column, computed from the spec"}
MAX_PARAMS = 8  # a benchmark with more parameters is taken as malformed (rows match on their subsets)


class LeaderboardWarning(results.ResultsWarning):
    pass


def _warn(message: str) -> None:
    warnings.warn(message, LeaderboardWarning, stacklevel=3)


@dataclass(frozen=True)
class Record:
    machine: str
    column: Column
    params: frozenset  # (name, value) pairs, seed excluded
    seed: str | None
    value: float | None
    status: str
    link: str
    samples: tuple[float, ...] = ()  # asv's timing samples of this combination (ok records only)
    commit: str = ""  # the commit whose results file holds it
    excluded: str = ""  # why results/annotations.toml keeps it off rankings, plots and verdicts ("" if it does not)


def asv_link(benchmark: str, machine: str, raw_params: dict[str, str]) -> str:
    """URL of asv's own graph page for a benchmark, restricted to one machine and combination."""
    parts = [("machine", machine)] + [(f"p-{name}", value) for name, value in raw_params.items()]
    query = "&".join(f"{quote(k, safe='-_.')}={quote(v, safe=chr(39) + '-_.')}" for k, v in parts)
    return f"index.html#{quote(benchmark, safe='-_.')}?{query}"


def _plausible(value, column: Column) -> bool:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return False
    if not math.isfinite(value) or not column.lo <= value <= column.hi:
        return False
    return column not in (PARITY, SCALING_UNITS) or float(value).is_integer()


def _samples(samples, column: Column, where: str) -> tuple[float, ...]:
    """asv's samples of one combination, each a plausible value of ``column``; () when absent or
    when any is implausible (with a warning)."""
    if samples is None:
        return ()
    if not isinstance(samples, list) or not all(_plausible(x, column) for x in samples):
        _warn(f"{where}: samples are not a list of plausible {column.unit} values; ignored (the value is kept)")
        return ()
    return tuple(float(x) for x in samples)


def _date(header: dict) -> float:
    d = header["date"]
    if isinstance(d, bool) or not isinstance(d, (int, float)) or not math.isfinite(d):
        _warn(f"{header['file']}: no valid date; ranked as the oldest commit of {header['machine']!r}")
        return -math.inf
    return float(d)


def by_machine(headers: list[dict]) -> dict[str, list[dict]]:
    """Machine -> the headers of its results files, oldest commit (by date) first."""
    dated: dict[str, list[tuple[float, dict]]] = defaultdict(list)
    for h in headers:
        dated[h["machine"]].append((_date(h), h))
    return {machine: [h for _, h in sorted(hs, key=lambda dh: (dh[0], dh[1]["file"]))]
            for machine, hs in dated.items()}


def data_clashes(newest: dict[str, str], older: dict[str, str]) -> list[str]:
    """The datasets that two results files name with different fingerprints (data_<name> params)."""
    return sorted(k for k in newest.keys() & older.keys() if newest[k] != older[k])


def _problem(column: Column | None, names: list | None, n_params: int) -> str:
    if column is None:
        return "has no leaderboard column"
    if names is None:
        return "is not in benchmarks.json"
    if len(names) != n_params:
        return f"has {n_params} parameters where benchmarks.json names {len(names)}"
    if n_params > MAX_PARAMS:
        return f"has more than {MAX_PARAMS} parameters"
    return ""


def _param_names(names: list | None, n_params: int) -> list | None:
    """The benchmark's parameter names for a row of ``n_params`` values. A row with one value fewer
    than benchmarks.json names, whose names include ``seed``, is a run from before the seed
    parameter (the suite added it, the other parameters kept their order): one run, the spec's seed."""
    if names is not None and SEED in names and len(names) == n_params + 1:
        return [n for n in names if n != SEED]
    return names


def read_records(rows: list[dict], meta: dict[str, dict], warned: set, latest: bool = True) -> list[Record]:
    """Validated records of one results file; unusable ones are dropped with a warning. A file of an
    older commit (``latest=False``) drops benchmarks the suite no longer has without one."""
    out = []
    failed = 0
    for r in rows:
        name, path = r["benchmark"], r["file"]
        declared = meta.get(name, {}).get("param_names")
        names = _param_names(declared, len(r["params"]))
        # asv's graphs show only runs of the benchmark's current code (its version hash) and
        # parameters: a run of older code keeps its value here but gets no dead link
        current = meta.get(name, {}).get("version")
        linkable = names is declared and (current is None or r.get("version") in (None, current))
        scaling = is_scaling(names)
        method = name.rsplit(".", 1)[-1]
        column = PEAK if method == PEAK.method else (SCALING_BY_METHOD if scaling else BY_METHOD).get(method)
        if column is None and method in SHOWN_ELSEWHERE:
            continue
        problem = _problem(column, names, len(r["params"]))
        if problem and not latest and names is None:
            continue
        if problem:
            if (path, name) not in warned:
                warned.add((path, name))
                _warn(f"{path}: benchmark {name!r} {problem}; ignored")
            continue
        params = {n: str(v) for n, v in zip(names, r["params"])}
        raw = {n: str(v) for n, v in zip(names, r["raw_params"])}
        seed = params.pop(SEED, None)
        raw.pop(SEED, None)
        if scaling:
            window = window_pixels(params["window"])
            if window is None:
                _warn(f"{path}: {name} {params}: window {params['window']!r} is not a whole number of pixels "
                      f"from 1 to {MAX_WINDOW}; ignored")
                continue
            params["window"] = str(window)
        value, status = r["value"], r["status"]
        if status == "ok" and not _plausible(value, column):
            _warn(f"{path}: {name} {params} = {value!r} is not a plausible {column.unit} value "
                  f"(expected {column.lo:g} to {column.hi:g}); ignored")
            continue
        failed += status == "failed"
        samples = _samples(r.get("samples"), column, f"{path}: {name} {params}") if status == "ok" else ()
        out.append(Record(r["machine"], column, frozenset(params.items()), seed,
                          float(value) if status == "ok" else None, status,
                          asv_link(name, r["machine"], raw) if linkable else "", samples, str(r.get("commit", ""))))
    if failed:
        _warn(f"{rows[0]['file']}: {failed} benchmark combination(s) failed (shown as 'failed')")
    return out
