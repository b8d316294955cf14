"""Comparing two results files, combination by combination: ``compare`` and ``compare_sets``."""

from __future__ import annotations

import math
import re
import statistics
from pathlib import Path

from ..errors import CompareError
from ..machine import hardware_differences
from ..repo import working_repo
from ..results import ResultsFile
from ..results import unquote as _unquote
from .lookup import pick_pair, resolve
from .rules import (
    ALPHA,
    DEFAULT_ACCURACY_TOL,
    DEFAULT_FACTOR,
    ERROR_STATUSES,
    _nan,
    judge_accuracy,
    judge_pair,
    kind_of,
)
from .table import ABSENT, Comparison, Row


def _selected(name: str, key: tuple, regex: str | None) -> bool:
    """asv's -b semantics: the regex is searched in the name, or in ``name(param, ...)``."""
    if not regex:
        return True
    return bool(re.search(regex, name) or (key and re.search(regex, f"{name}({', '.join(key)})")))


def _seed_index(meta: dict) -> int | None:
    names = meta.get("param_names") or []
    return names.index("seed") if "seed" in names else None


def compare_sets(base: ResultsFile, head: ResultsFile, factor: float = DEFAULT_FACTOR, only_changed: bool = False,
                 benchmark_regex: str | None = None, accuracy_tol: float = DEFAULT_ACCURACY_TOL,
                 alpha: float = ALPHA) -> Comparison:
    """Compare two loaded results files (see the module docstring for the rules)."""
    if base.machine != head.machine:
        raise CompareError(f"different machines: base {base.machine!r} ({base.path}) vs head {head.machine!r} "
                           f"({head.path}); results are only comparable on one machine: pass --machine NAME "
                           "or two files of the same machine")
    differ = hardware_differences(base.params, head.params, unrecorded=False)
    if differ:
        raise CompareError(f"different hardware under one machine name {head.machine!r}: {'; '.join(differ)} "
                           f"(base {base.path}, head {head.path}); results of different hardware are not comparable: "
                           "benchmark both sides on one machine")
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
        seed = _seed_index(meta) if kind == "accuracy" else None
        if seed is not None:
            rows += _accuracy_over_seeds(name, keys, seed, b_combos, h_combos, unit, factor, accuracy_tol)
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


def _accuracy_over_seeds(name, keys, seed, b_combos, h_combos, unit, factor, accuracy_tol) -> list[Row]:
    """Accuracy with a ``seed`` parameter: compare means over seeds, tolerance from the base spread."""
    groups: dict[tuple, list] = {}
    for key in keys:
        groups.setdefault(key[:seed] + key[seed + 1:], []).append(key)
    rows = []
    for group, members in groups.items():
        params = tuple(_unquote(p) for p in group[:seed]) + ("seed=*",) + tuple(_unquote(p) for p in group[seed:])
        pairs = [(b_combos.get(k), h_combos.get(k)) for k in members]
        if any(b is None or h is None for b, h in pairs):
            rows.append(Row(name, params, "missing", ABSENT, ABSENT, unit,
                            note="a seed is in only one side's results"))
            continue
        judged = [judge_pair("accuracy", b, h, factor, accuracy_tol) for b, h in pairs]
        bad = [(k, j) for k, j in zip(members, judged) if j[0] in ERROR_STATUSES]
        if bad:
            k, (status, _, note) = bad[0]
            rows.append(Row(name, params, status, "-", "-", unit, note=f"seed {_unquote(k[seed])}: {note}"))
            continue
        ok = [(b.value, h.value) for (b, h), j in zip(pairs, judged) if j[0] != "skipped"]
        if not ok:
            rows.append(Row(name, params, "skipped", math.nan, math.nan, unit))
            continue
        bs, hs = [b for b, _ in ok], [h for _, h in ok]
        sd = statistics.stdev(bs) if len(bs) > 1 else 0.0
        tol = max(2 * sd, accuracy_tol)
        note = (f"mean of {len(ok)} seeds; tolerance max(2 x sd {sd:.2f}, {accuracy_tol:g}) = {tol:.2f} pt"
                if len(bs) > 1 else f"one seed: tolerance {accuracy_tol:g} pt")
        status, change, note = judge_accuracy(statistics.fmean(bs), statistics.fmean(hs), tol, note)
        rows.append(Row(name, params, status, statistics.fmean(bs), statistics.fmean(hs), unit, change, note))
    return rows


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
    return compare_sets(b, h, factor, only_changed, benchmark_regex, accuracy_tol, alpha)
