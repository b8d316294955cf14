"""Regression gate over two asv results files, with an exit code CI can act on.

``asv compare`` always exits 0 and judges every benchmark by one factor. ``tokfrag compare``
reads two asv results files (format v2) of the **same machine and environment** and judges
each benchmark x parameter combination by what its number means:

- ``time_*`` (lower is better): regression when head/base > factor AND the difference is
  significant: a Mann-Whitney U test on the recorded samples (p < ALPHA); without samples,
  disjoint 99% confidence intervals; without either, the factor alone (the note says so).
- ``peakmem_*``, ``mem_*``, ``track_*`` in bytes (lower): head/base > factor.
- ``track_accuracy`` in % (higher): with a ``seed`` parameter, the means over seeds, and a
  drop > max(2 x sd of the base seeds, tolerance); else a drop > tolerance (points).
- ``track_*`` in ``.../s`` such as ``track_train_throughput`` (higher): base/head > factor.
- ``track_time_to_target`` (lower): head/base > factor; NaN there means "never reached", so
  number -> NaN is a regression and NaN -> number an improvement.
- ``track_parity`` (failed checks, lower): any increase, in particular 0 -> >0.
- other ``track_*`` (direction unknown): a change beyond the factor is "changed", never a
  regression.

Exit codes, highest wins: **2** when something cannot be judged (a combination failed, i.e.
is null, on either side; is missing on one side; is skipped on one side only; or the
two files come from different machines or environments), else **1** when something
regressed, else **0**. A combination skipped (NaN) on both sides is fine. 2 wins over 1
because a failed benchmark may hide a regression: the gate must not look greener than it is.
"""

from __future__ import annotations

import argparse
import itertools
import json
import math
import re
import statistics
from dataclasses import dataclass, field
from pathlib import Path

from .errors import CompareError, GitError, UsageError
from .repo import git, working_repo

DEFAULT_FACTOR = 1.10  # a slowdown must exceed 10% (and be significant) to count
DEFAULT_ACCURACY_TOL = 1.0  # accuracy points, when no seed spread is available
ALPHA = 0.01  # significance level of the Mann-Whitney U test on time samples
SCHEMA_VERSION = 2  # asv results file version this reader understands

EXIT_OK, EXIT_REGRESSED, EXIT_ERROR = 0, 1, 2
# statuses, in the order the table lists them
ERROR_STATUSES = ("failed", "missing", "incomparable")
ORDER = ERROR_STATUSES + ("regressed", "improved", "changed", "unchanged", "skipped")


ABSENT = "absent"  # the value shown for a side whose results lack the combination


# --- reading results ------------------------------------------------------------------

@dataclass
class Combo:
    """One benchmark x parameter combination of one results file."""

    value: object  # float, None (failed) or NaN (skipped)
    samples: list | None = None
    stats: dict = field(default_factory=dict)  # ci_99_a, ci_99_b, q_25, q_75, number, repeat


@dataclass
class ResultSet:
    """One asv results file: ``results/<machine>/<commit>-<env>.json``."""

    path: Path
    machine: str
    env: str
    commit: str
    entries: dict  # benchmark name -> {column name: value}
    meta: dict  # benchmark name -> its benchmarks.json entry (type, unit, param_names); may be empty

    @classmethod
    def read(cls, path: str | Path) -> "ResultSet":
        path = Path(path)
        try:
            doc = json.loads(path.read_text())
        except (OSError, ValueError) as e:
            raise CompareError(f"{path}: cannot read it as JSON ({e}); expected an asv results file") from e
        if not isinstance(doc, dict) or "results" not in doc or doc.get("version") != SCHEMA_VERSION:
            raise CompareError(f"{path}: not an asv results file of version {SCHEMA_VERSION} "
                               f"(found version {doc.get('version') if isinstance(doc, dict) else '?'}); "
                               "pass a results/<machine>/<commit>-<env>.json file written by asv 0.6")
        columns = doc.get("result_columns") or []
        entries = {name: dict(zip(columns, entry)) for name, entry in doc["results"].items()
                   if isinstance(entry, list)}
        machine = str(doc.get("params", {}).get("machine") or path.parent.name)
        return cls(path, machine, str(doc.get("env_name", "")), str(doc.get("commit_hash", "")),
                   entries, _benchmarks_json(path))

    def combos(self, name: str) -> dict[tuple, Combo]:
        """params (asv's repr strings, e.g. ``"'pytorch'"``) -> Combo, for one benchmark."""
        fields = self.entries[name]
        param_lists = fields.get("params") or []
        keys = list(itertools.product(*param_lists)) if param_lists else [()]
        values = fields.get("result")
        if not isinstance(values, list):
            values = [values] * len(keys)
        out = {}
        for i, key in enumerate(keys):
            stats = {k[len("stats_"):]: _at(fields.get(k), i) for k in fields if k.startswith("stats_")}
            out[key] = Combo(_at(values, i), _at(fields.get("samples"), i),
                             {k: v for k, v in stats.items() if v is not None})
        return out

    def label(self) -> str:
        return f"{self.commit[:8] or '?'} ({self.path})"


def _at(column, i):
    return column[i] if isinstance(column, list) and i < len(column) else None


def _benchmarks_json(path: Path) -> dict:
    """asv writes benchmarks.json (types, units, parameter names) at the results folder's root."""
    for candidate in (path.parent.parent / "benchmarks.json", path.parent / "benchmarks.json"):
        if candidate.is_file():
            try:
                doc = json.loads(candidate.read_text())
            except ValueError:
                continue
            return {k: v for k, v in doc.items() if isinstance(v, dict)}
    return {}


# --- finding the files ----------------------------------------------------------------

def _is_results_file(p: Path) -> bool:
    return p.suffix == ".json" and p.name not in ("machine.json", "benchmarks.json")


def resolve(spec: str, results_dir: Path, repo: Path, machine: str | None = None) -> list[Path]:
    """BASE or HEAD -> candidate results files: a file, a folder, or a commit (any git revision)."""
    p = Path(spec)
    if p.is_file():
        return [p]
    if p.is_dir():
        files = sorted(f for f in p.glob("*.json") if _is_results_file(f))
        if not files:  # a results_dir: one folder per machine
            files = sorted(f for f in p.glob(f"{machine or '*'}/*.json") if _is_results_file(f))
        if not files:
            raise CompareError(f"{p}: no asv results files in this folder or in {p}/<machine>/; "
                               "expected <commit>-<env>.json files written by asv run")
        return files
    try:
        sha = git(repo, "rev-parse", "--verify", "--quiet", f"{spec}^{{commit}}", timeout=30)
    except GitError:
        sha = None
    prefix = sha or (spec.lower() if re.fullmatch(r"[0-9a-fA-F]{4,40}", spec) else None)
    if prefix is None:
        raise CompareError(f"{spec!r} is neither a results file, a results folder, nor a git revision of {repo}")
    # asv names a file by the commit's first 8 hex digits; its commit_hash field holds all 40
    files = sorted(f for f in results_dir.glob(f"{machine or '*'}/{prefix[:8]}*-*.json")
                   if _is_results_file(f) and _commit_of(f).startswith(prefix))
    if not files:
        raise CompareError(f"no results for {spec} ({prefix[:12]}) in {results_dir / (machine or '*')}/: run "
                           f"`tokfrag bench` on that commit first, pass a results file, or benchmark both "
                           f"sides now with `tokfrag bench --against {spec}`")
    return files


def _commit_of(path: Path) -> str:
    try:
        return str(json.loads(path.read_text()).get("commit_hash", ""))
    except (OSError, ValueError):
        return path.name.split("-", 1)[0]


def pick_pair(base_files: list[Path], head_files: list[Path]) -> tuple[ResultSet, ResultSet]:
    """One file per side; with several candidates, the one machine and environment both share."""
    base = [ResultSet.read(f) for f in base_files]
    head = [ResultSet.read(f) for f in head_files]
    if len(base) == 1 and len(head) == 1:
        return base[0], head[0]
    common = {(b.machine, b.env) for b in base} & {(h.machine, h.env) for h in head}
    if len(common) == 1:
        key = common.pop()
        b = [r for r in base if (r.machine, r.env) == key]
        h = [r for r in head if (r.machine, r.env) == key]
        if len(b) == 1 and len(h) == 1:
            return b[0], h[0]
    listing = "\n".join(f"  {side}: {r.machine} / {r.env} / {r.commit[:8]}  {r.path}"
                        for side, rs in (("base", base), ("head", head)) for r in rs)
    raise CompareError("cannot pick one results file per side; candidates (machine / environment / commit):\n"
                       f"{listing}\npass --machine NAME, or the two files themselves")


# --- judging one combination ----------------------------------------------------------

@dataclass
class Row:
    benchmark: str
    params: tuple  # unquoted parameter values
    status: str  # one of ORDER
    base: object
    head: object
    unit: str = ""
    change: str = ""
    note: str = ""

    @property
    def name(self) -> str:
        short = self.benchmark.split(".", 1)[1] if self.benchmark.startswith("bench") and "." in self.benchmark \
            else self.benchmark
        return f"{short}({', '.join(str(p) for p in self.params)})" if self.params else short


def kind_of(name: str, meta: dict) -> str:
    """time | memory | accuracy | throughput | time_to_target | parity | unknown."""
    func = name.rsplit(".", 1)[-1]
    btype, unit = meta.get("type", ""), str(meta.get("unit", ""))
    if btype == "time" or func.startswith("time_"):
        return "time"
    if btype in ("peakmemory", "memory") or func.startswith(("peakmem_", "mem_")):
        return "memory"
    if func == "track_accuracy" or ("accuracy" in func and unit == "%"):
        return "accuracy"
    if func == "track_time_to_target":
        return "time_to_target"
    if func == "track_parity":
        return "parity"
    if func == "track_train_throughput" or unit.endswith("/s"):
        return "throughput"
    if unit == "bytes":
        return "memory"
    return "unknown"


def is_number(v) -> bool:
    """A finite-or-infinite number, not None (failed) nor NaN (skipped)."""
    return isinstance(v, (int, float)) and not isinstance(v, bool) and not math.isnan(v)


def _nan(v) -> bool:
    return isinstance(v, float) and math.isnan(v)


def _ratio(b: float, h: float) -> float:
    if b == 0:
        return 1.0 if h == 0 else math.inf
    return h / b


def _by_factor(b, h, factor, lower_better: bool | None) -> tuple[str, str]:
    r = _ratio(b, h)
    change = f"x{r:.2f}"
    if r > factor or r < 1 / factor:
        if lower_better is None:
            return "changed", change
        worse = (r > factor) == lower_better
        return ("regressed" if worse else "improved"), change
    return "unchanged", change


def _finite_samples(s) -> list[float]:
    return [float(x) for x in (s or []) if is_number(x)]


def significance(base: Combo, head: Combo, alpha: float = ALPHA) -> tuple[bool, str]:
    """Whether two timings differ: U test on samples, else disjoint 99% CIs, else assume so."""
    a, b = _finite_samples(base.samples), _finite_samples(head.samples)
    if len(a) >= 2 and len(b) >= 2:
        p_min = 2 / math.comb(len(a) + len(b), len(a))  # the smallest two-sided p these sizes allow
        if p_min < alpha:
            from scipy.stats import mannwhitneyu

            p = float(mannwhitneyu(a, b, alternative="two-sided").pvalue)
            return p < alpha, f"U test p={p:.2g} ({len(a)} vs {len(b)} samples)"
        why = f"{len(a)} vs {len(b)} samples: too few for a U test at p<{alpha:g}"
    else:
        why = "no samples recorded (asv run --record-samples)"
    ci = [(c.stats.get("ci_99_a"), c.stats.get("ci_99_b")) for c in (base, head)]
    if all(is_number(x) and not math.isinf(x) for pair in ci for x in pair):
        (a0, a1), (b0, b1) = ci
        overlap = a1 >= b0 and a0 <= b1
        return not overlap, f"{why}; 99% CIs {'overlap' if overlap else 'disjoint'}"
    return True, f"{why}, no CI: factor only"


def judge_time(base: Combo, head: Combo, factor: float, alpha: float = ALPHA) -> tuple[str, str, str]:
    status, change = _by_factor(base.value, head.value, factor, lower_better=True)
    significant, note = significance(base, head, alpha)
    if status != "unchanged" and not significant:
        status, change = "unchanged", "~" + change
    return status, change, note


def judge_accuracy(b: float, h: float, tol: float, note: str) -> tuple[str, str, str]:
    diff = h - b
    change = f"{diff:+.2f} pt"
    if diff < -tol:
        return "regressed", change, note
    if diff > tol:
        return "improved", change, note
    return "unchanged", change, note


def judge_pair(kind: str, base: Combo, head: Combo, factor: float, accuracy_tol: float,
               alpha: float = ALPHA) -> tuple[str, str, str]:
    """(status, change, note) of one combination present on both sides."""
    b, h = base.value, head.value
    if b is None or h is None:
        which = "both sides" if b is None and h is None else ("base" if b is None else "head")
        return "failed", "", f"failed on {which} (null in the results file)"
    if kind == "time_to_target" and (_nan(b) or _nan(h)) and not (_nan(b) and _nan(h)):
        return (("regressed", "", "target no longer reached (NaN: never)") if _nan(h)
                else ("improved", "", "target now reached (base: never)"))
    if _nan(b) and _nan(h):
        return "skipped", "", ""
    if _nan(b) or _nan(h):
        return "incomparable", "", f"skipped (NaN) on {'base' if _nan(b) else 'head'} only"
    if kind == "time":
        return judge_time(base, head, factor, alpha)
    if kind == "accuracy":
        return judge_accuracy(b, h, accuracy_tol, f"tolerance {accuracy_tol:g} pt (no seed parameter)")
    if kind == "parity":
        status = "regressed" if h > b else ("improved" if h < b else "unchanged")
        return status, f"{b:g} -> {h:g}", "any increase of failed checks regresses"
    lower = {"memory": True, "time_to_target": True, "throughput": False}.get(kind)
    status, change = _by_factor(b, h, factor, lower)
    return status, change, ("direction unknown: reported as changed, never as regression"
                            if lower is None and status == "changed" else "")


# --- comparing two files --------------------------------------------------------------

@dataclass
class Comparison:
    base: ResultSet
    head: ResultSet
    rows: list
    factor: float = DEFAULT_FACTOR
    accuracy_tol: float = DEFAULT_ACCURACY_TOL
    alpha: float = ALPHA
    only_changed: bool = False

    def count(self, status: str) -> int:
        return sum(r.status == status for r in self.rows)

    @property
    def exit_code(self) -> int:
        """2 if anything failed / is missing / incomparable, else 1 if anything regressed, else 0."""
        if any(r.status in ERROR_STATUSES for r in self.rows):
            return EXIT_ERROR
        return EXIT_REGRESSED if self.count("regressed") else EXIT_OK

    def table(self) -> str:
        shown = [r for r in self.rows if r.status != "skipped"
                 and not (self.only_changed and r.status == "unchanged")]
        shown.sort(key=lambda r: (ORDER.index(r.status), r.name))
        head = [f"base: {self.base.label()}", f"head: {self.head.label()}",
                f"machine {self.head.machine}, environment {self.head.env}; factor {self.factor:.2f}, "
                f"accuracy tolerance {self.accuracy_tol:g} pt, U test alpha {self.alpha:g}", ""]
        cells = [(r.status.upper() if r.status in ERROR_STATUSES + ("regressed",) else r.status, r.name,
                  human(r.base, r.unit), human(r.head, r.unit), r.change, r.note) for r in shown]
        titles = ("status", "benchmark", "base", "head", "change", "note")
        widths = [max([len(t)] + [len(c[i]) for c in cells]) for i, t in enumerate(titles)]
        fmt = "  ".join(f"{{:{'>' if i in (2, 3, 4) else '<'}{w}}}" for i, w in enumerate(widths[:-1])) + "  {}"
        lines = head + [fmt.format(*titles).rstrip()] + [fmt.format(*c).rstrip() for c in cells]
        if not shown:
            lines.append("(nothing to show)")
        counts = ", ".join(f"{self.count(s)} {s}" for s in ORDER if self.count(s))
        verdict = {EXIT_OK: "no regression", EXIT_REGRESSED: "regression",
                   EXIT_ERROR: "something failed, is missing or cannot be compared"}[self.exit_code]
        lines += ["", f"{counts or 'no benchmarks'} -> exit {self.exit_code} ({verdict})"]
        if self.count("skipped"):
            lines.append(f"({self.count('skipped')} combinations skipped on both sides are not listed)")
        return "\n".join(lines)


def human(v, unit: str) -> str:
    if v is None:
        return "failed"
    if _nan(v):
        return "n/a"
    if not isinstance(v, (int, float)):
        return str(v)
    if unit == "seconds":
        for scale, suffix in ((1, "s"), (1e-3, "ms"), (1e-6, "us"), (1e-9, "ns")):
            if abs(v) >= scale or scale == 1e-9:
                return f"{v / scale:.3g} {suffix}"
    if unit == "bytes":
        for scale, suffix in ((2**30, "GiB"), (2**20, "MiB"), (2**10, "KiB")):
            if abs(v) >= scale:
                return f"{v / scale:.4g} {suffix}"
        return f"{v:.0f} B"
    if unit == "%":
        return f"{v:.2f}%"
    return f"{v:.4g} {unit}".rstrip()


def _unquote(p):
    return p[1:-1] if isinstance(p, str) and len(p) >= 2 and p[0] == p[-1] and p[0] in "'\"" else p


def _selected(name: str, key: tuple, regex: str | None) -> bool:
    """asv's -b semantics: the regex is searched in the name, or in ``name(param, ...)``."""
    if not regex:
        return True
    return bool(re.search(regex, name) or (key and re.search(regex, f"{name}({', '.join(key)})")))


def _seed_index(meta: dict) -> int | None:
    names = meta.get("param_names") or []
    return names.index("seed") if "seed" in names else None


def compare_sets(base: ResultSet, head: ResultSet, factor: float = DEFAULT_FACTOR, only_changed: bool = False,
                 benchmark_regex: str | None = None, accuracy_tol: float = DEFAULT_ACCURACY_TOL,
                 alpha: float = ALPHA) -> Comparison:
    """Compare two loaded results files (see the module docstring for the rules)."""
    if base.machine != head.machine:
        raise CompareError(f"different machines: base {base.machine!r} ({base.path}) vs head {head.machine!r} "
                           f"({head.path}); results are only comparable on one machine: pass --machine NAME "
                           "or two files of the same machine")
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


# --- command line ---------------------------------------------------------------------

def add_parser(sub) -> None:
    s = sub.add_parser(
        "compare", help="regression gate: compare two commits' results, exit 1 on a regression",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Compare the asv results of BASE and HEAD (same machine, same environment) and exit "
                    "with a code CI can act on.\n\n"
                    f"time_*: regression when head/base > FACTOR (default {DEFAULT_FACTOR:.2f}) and a "
                    f"Mann-Whitney U test on the recorded samples says p < {ALPHA:g} (without samples: "
                    "disjoint 99% CIs; without CIs: the factor alone, said in the note).\n"
                    "peakmem_*, track_* in bytes, track_time_to_target: head/base > FACTOR.\n"
                    "track_train_throughput (and track_* in .../s): base/head > FACTOR.\n"
                    "track_accuracy: a drop of more than max(2 x sd across seeds, --accuracy-tol) "
                    f"points where a seed parameter exists, else more than --accuracy-tol "
                    f"(default {DEFAULT_ACCURACY_TOL:g}).\n"
                    "track_parity: any increase of failed checks. Other track_*: reported as changed.",
        epilog="exit codes: 0 no regression; 1 something regressed; 2 a benchmark failed (null) on either "
               "side, is missing or skipped on one side only, or the two sides are of different machines "
               "or environments. 2 wins over 1.")
    s.add_argument("base", metavar="BASE", help="a commit (any git revision), a results file or a results folder")
    s.add_argument("head", metavar="HEAD", help="the same, for the side under test")
    s.add_argument("--factor", type=float, default=DEFAULT_FACTOR,
                   help=f"ratio a number must change by to count (default {DEFAULT_FACTOR:.2f}, i.e. 10%%)")
    s.add_argument("--accuracy-tol", type=float, default=DEFAULT_ACCURACY_TOL, metavar="POINTS",
                   help=f"accuracy drop tolerated without seed spread, in points (default {DEFAULT_ACCURACY_TOL:g})")
    s.add_argument("--only-changed", action="store_true", help="do not list unchanged benchmarks")
    s.add_argument("--machine", metavar="NAME", help="machine folder to look commits up in (default: any)")
    s.add_argument("--benchmark", metavar="REGEX", help="only benchmarks matching REGEX (as asv -b)")
    s.add_argument("--results", metavar="DIR", help="results folder for commit look-up (default: <repo>/results)")
    s.set_defaults(func=cmd_compare)


def cmd_compare(args) -> int:
    if args.factor <= 1:
        raise UsageError(f"--factor must be > 1 (got {args.factor:g}), e.g. 1.10")
    result = compare(args.base, args.head, factor=args.factor, only_changed=args.only_changed,
                     machine=args.machine, benchmark_regex=args.benchmark, results_dir=args.results,
                     accuracy_tol=args.accuracy_tol)
    print(result.table())
    return result.exit_code
