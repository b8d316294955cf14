"""Comparing two results files, combination by combination: ``compare`` and ``compare_sets``."""

from __future__ import annotations

import math
import re
import statistics
from pathlib import Path

from .. import annotations
from ..annotations import Annotations
from ..errors import CompareError
from ..machine import hardware_differences
from ..repo import working_repo
from ..results import Combo, ResultsFile
from ..results import unquote as _unquote
from .lookup import pick_pair, resolve
from .rules import (
    ALPHA,
    DEFAULT_ACCURACY_TOL,
    DEFAULT_FACTOR,
    ERROR_STATUSES,
    _nan,
    judge_pair,
    judge_seeds,
    kind_of,
)
from .table import ABSENT, Comparison, Row


def _selected(name: str, key: tuple, regex: str | None) -> bool:
    """asv's -b semantics: the regex is searched in the name, or in ``name(param, ...)``."""
    if not regex:
        return True
    return bool(re.search(regex, name) or (key and re.search(regex, f"{name}({', '.join(key)})")))


def data_differences(base: ResultsFile, head: ResultsFile) -> list[str]:
    """Datasets benchmarked in either file whose recorded fingerprints (``ResultsFile.data_fingerprints``)
    differ, as "name: base <sha> vs head <sha>". A side that recorded none (plain ``asv run``) says nothing."""
    b, h = base.data_fingerprints(), head.data_fingerprints()
    used = base.datasets() | head.datasets()
    return [f"{n}: data {b[n][:12]} in base vs {h[n][:12]} in head" for n in sorted(set(b) & set(h) & used)
            if b[n] != h[n]]


def _seed_index(meta: dict) -> int | None:
    names = meta.get("param_names") or []
    return names.index("seed") if "seed" in names else None


def _excluded(name: str, keys: list, meta: dict, notes: Annotations, base: ResultsFile, head: ResultsFile,
              unit: str) -> tuple[list, list[Row]]:
    """The combinations results/annotations.toml leaves out of the gate (on either side), as rows of
    status "excluded" (one per combination, its seeds together), and the keys still to judge."""
    names = list(meta.get("param_names") or [])
    method = name.rsplit(".", 1)[-1]
    keep, rows, seen = [], [], set()
    for key in keys:
        params = {n: _unquote(v) for n, v in zip(names if len(names) == len(key) else
                                                   [n for n in names if n != "seed"], key)}
        reason = next((r for side in (base, head)
                       if (r := notes.excluded(side.machine, side.commit, method, params))), "")
        if not reason:
            keep.append(key)
            continue
        shown = tuple(v for k, v in params.items() if k != "seed")
        if shown not in seen:
            seen.add(shown)
            rows.append(Row(name, shown, "excluded", "-", "-", unit, note=f"excluded ({annotations.FILENAME}): "
                                                                            f"{reason}"))
    return keep, rows


def compare_sets(base: ResultsFile, head: ResultsFile, factor: float = DEFAULT_FACTOR, only_changed: bool = False,
                 benchmark_regex: str | None = None, accuracy_tol: float = DEFAULT_ACCURACY_TOL,
                 alpha: float = ALPHA, notes: Annotations | None = None) -> Comparison:
    """Compare two loaded results files (see the module docstring for the rules). ``notes``: the
    results folder's annotations; what they exclude is listed as "excluded", never judged."""
    if base.machine != head.machine:
        raise CompareError(f"different machines: base {base.machine!r} ({base.path}) vs head {head.machine!r} "
                           f"({head.path}); results are only comparable on one machine: pass --machine NAME "
                           "or two files of the same machine")
    differ = hardware_differences(base.params, head.params, unrecorded=False)
    if differ:
        raise CompareError(f"different hardware under one machine name {head.machine!r}: {'; '.join(differ)} "
                           f"(base {base.path}, head {head.path}); results of different hardware are not comparable: "
                           "benchmark both sides on one machine")
    differ = data_differences(base, head)
    if differ:
        raise CompareError(f"different data under one dataset name: {'; '.join(differ)} (base {base.path}, head "
                           f"{head.path}); results measured on different data are not comparable: benchmark both "
                           "sides on the same prepared data, or prepare the other data under a name of its own "
                           "(tokfrag prepare KIND --source PATH --name NAME)")
    if base.env != head.env:
        raise CompareError(f"different environments on {head.machine}: base {base.env!r} ({base.path}) vs head "
                           f"{head.env!r} ({head.path}); compare results of one environment (same interpreter)")
    rows: list[Row] = []
    for name in sorted(set(base.entries) | set(head.entries)):
        meta = head.meta.get(name) or base.meta.get(name) or {}
        unit = str(meta.get("unit", "seconds" if kind_of(name, meta) == "time" else ""))
        kind = kind_of(name, meta)
        b_combos = base.combos(name) if name in base.entries else {}
        h_combos = head.combos(name) if name in head.entries else {}
        version_note = ""
        if name in base.entries and name in head.entries and \
                base.entries[name].get("version") != head.entries[name].get("version"):
            version_note = "benchmark code changed"
        keys = [k for k in dict.fromkeys(list(b_combos) + list(h_combos)) if _selected(name, k, benchmark_regex)]
        if notes is not None and notes.exclusions:
            keys, excluded = _excluded(name, keys, meta, notes, base, head, unit)
            rows += excluded
        # the side with a seed parameter decides (the other may predate it); time_*: a U test per seed
        seeded = next((m for m in (head.meta.get(name), base.meta.get(name)) if m and _seed_index(m) is not None), None)
        if seeded is not None and kind != "time":
            rows += _over_seeds(name, kind, keys, seeded, b_combos, h_combos, unit, factor, accuracy_tol,
                                version_note, base, head)
            continue
        for key in keys:
            params = tuple(_unquote(p) for p in key)
            b, h = b_combos.get(key), h_combos.get(key)
            if b is None or h is None:
                present = b if h is None else h
                if present is not None and _nan(present.value):
                    continue  # skipped where it exists, absent on the other side: nothing lost
                rows.append(Row(name, params, "missing", ABSENT if b is None else b.value,
                                ABSENT if h is None else h.value, unit,
                                note=f"not in the {'head' if h is None else 'base'} results "
                                     f"({(head if h is None else base).path.name})"))
                continue
            status, change, note = judge_pair(kind, b, h, factor, accuracy_tol, alpha)
            note = "; ".join(x for x in (note, version_note) if x)
            rows.append(Row(name, params, status, b.value, h.value, unit, change, note))
    return Comparison(base, head, rows, factor, accuracy_tol, alpha, only_changed)


def _over_seeds(name, kind, keys, meta, b_combos, h_combos, unit, factor, accuracy_tol, version_note,
                base: ResultsFile, head: ResultsFile) -> list[Row]:
    """One row per combination of the other parameters, judged over its seeds (``rules.judge_seeds``).

    Seeds are paired by value: a seed in both files is judged; one in only one file (another
    ``--seeds``) is named in the note and left out, since the interval needs pairs (but a null
    there still fails the row). A null on either side of a shared seed makes the row failed; NaN
    on one side only (except time to target, where NaN means "never reached") incomparable; NaN on
    both sides drops the seed. A side whose results have no seed parameter at all (run before the
    suite had one) is judged unpaired: ``_unpaired``.
    """
    seed, n_params = _seed_index(meta), len(meta["param_names"])
    groups: dict[tuple, dict] = {}
    for key in keys:
        with_seed = len(key) == n_params  # else a results file without the seed parameter
        group = key[:seed] + key[seed + 1:] if with_seed else key
        groups.setdefault(group, {})[key] = _unquote(key[seed]) if with_seed else None
    rows = []
    for group, members in groups.items():
        params = tuple(_unquote(p) for p in group[:seed]) + ("seed=*",) + tuple(_unquote(p) for p in group[seed:])
        b = {s: b_combos[k] for k, s in members.items() if k in b_combos}
        h = {s: h_combos[k] for k, s in members.items() if k in h_combos}
        if b and h and (None in b) != (None in h):
            rows.append(_unpaired(name, kind, params, b, h, unit, factor, accuracy_tol, version_note))
            continue
        shared = [s for s in b if s in h]
        # a seed on one side only that is skipped (NaN) there loses nothing, as for one combination
        only = {side: [s for s in d if s not in other and not _nan(d[s].value)]
                for side, d, other in (("base", b, h), ("head", h, b))}
        unmatched = "; ".join(f"seed {', '.join(map(str, only[side]))} in the {side} results only: not judged"
                              for side in ("base", "head") if only[side])
        # a seed that failed where it ran is a failure, with or without a partner to judge it against
        bad = [(s, ("failed", "", f"failed on {side} (null in the results file), in the {side} results only"))
               for side, d in (("base", b), ("head", h)) for s in only[side] if d[s].value is None]
        if not shared and not bad:
            if unmatched:
                rows.append(Row(name, params, "missing", ABSENT if not b else "-", ABSENT if not h else "-", unit,
                                note=f"no seed in both results ({unmatched})" if b and h else
                                f"not in the {'head' if b else 'base'} results ({(head if b else base).path.name})"))
            continue
        judged = {s: judge_pair(kind, b[s], h[s], factor, accuracy_tol) for s in shared}
        bad = [(s, j) for s, j in judged.items() if j[0] in ERROR_STATUSES] + bad
        if bad:
            status = min((j[0] for _, j in bad), key=ERROR_STATUSES.index)
            note = "; ".join(f"seed {s}: {j[2]}" for s, j in bad if j[0] == status)
            rows.append(Row(name, params, status, "-", "-", unit,
                            note="; ".join(x for x in (note, unmatched, version_note) if x)))
            continue
        ok = [s for s in shared if judged[s][0] != "skipped"]
        if not ok:
            rows.append(Row(name, params, "skipped", math.nan, math.nan, unit))
            continue
        status, bv, hv, change, note = judge_seeds(kind, {s: b[s].value for s in ok}, {s: h[s].value for s in ok},
                                                   factor, accuracy_tol)
        rows.append(Row(name, params, status, bv, hv, unit, change,
                        "; ".join(x for x in (note, unmatched, version_note) if x)))
    return rows


def _unpaired(name, kind, params, b: dict, h: dict, unit, factor, accuracy_tol, version_note) -> Row:
    """One side has no seed parameter (its one run, seed unknown), the other has seeds: nothing to
    pair, so that run is judged against the mean over the other side's seeds by the rules of one
    combination (``judge_pair``: accuracy by the fixed tolerance). A null seed fails the row; for
    time to target a seed that never reached the target makes that side's value NaN (never)."""
    seedless, seeds = ("base", "head") if None in b else ("head", "base")
    one, many = (b[None], h) if seedless == "base" else (h[None], b)
    values = [c.value for c in many.values()]
    failed = [s for s, c in many.items() if c.value is None]
    if failed:
        return Row(name, params, "failed", "-", "-", unit,
                   note=f"seed {', '.join(map(str, failed))}: failed on {seeds} (null in the results file)")
    finite = [v for v in values if not _nan(v)]
    if kind == "time_to_target":
        mean = statistics.fmean(values) if len(finite) == len(values) else math.nan
    else:
        mean = statistics.fmean(finite) if finite else math.nan
    pooled = Combo(mean)
    bc, hc = (one, pooled) if seedless == "base" else (pooled, one)
    status, change, note = judge_pair(kind, bc, hc, factor, accuracy_tol)
    if status == "skipped":
        return Row(name, params, "skipped", math.nan, math.nan, unit)
    why = (f"the {seedless} results have no seed parameter: their one run against the mean of "
           f"{len(finite)} {seeds} seeds, unpaired")
    return Row(name, params, status, bc.value, hc.value, unit, change,
               "; ".join(x for x in (why, note, version_note) if x))


def compare(base: str | Path, head: str | Path, factor: float = DEFAULT_FACTOR, only_changed: bool = False,
            machine: str | None = None, benchmark_regex: str | None = None, *,
            results_dir: str | Path | None = None, repo: str | Path | None = None,
            accuracy_tol: float = DEFAULT_ACCURACY_TOL, alpha: float = ALPHA) -> Comparison:
    """Compare BASE and HEAD, each a commit (any git revision), a results file or a results folder.

    Commits are looked up as ``<results_dir>/<machine>/<sha>-<env>.json`` (``results_dir``
    defaults to ``<repo>/results``). Raises CompareError when no pair of comparable files is
    found, or the two come from different machines or environments.
    """
    repo = Path(repo) if repo else working_repo()
    results_dir = Path(results_dir) if results_dir else repo / "results"
    b, h = pick_pair(resolve(str(base), results_dir, repo, machine), resolve(str(head), results_dir, repo, machine))
    return compare_sets(b, h, factor, only_changed, benchmark_regex, accuracy_tol, alpha,
                        notes=annotations.read(results_dir))
