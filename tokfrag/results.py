"""asv results files: the one model every reader uses (the gate, the leaderboard, the export).

asv stores, per machine folder, one JSON file per commit and environment. Each benchmark's
entry holds a list per ``result_columns`` name; ``result`` has one value per combination of
the benchmark's parameters (their cartesian product, in order). A NaN value means skipped,
a null one failed. Beside them, ``results/benchmarks.json`` names every benchmark's
parameters and each ``results/<machine>/machine.json`` describes the machine.

``read(path)`` gives a :class:`ResultsFile`: its header (machine, commit, environment, date,
the machine and requirement fields asv merged in) and its entries, as
``combos(name)`` (tolerant: every combination with its samples and statistics, for the gate)
or ``rows()`` (validated: a malformed entry is skipped with a ``ResultsWarning`` naming the
file, for the leaderboard, whose folders merge many machines). asv's own loader
(``asv.results.Results.load``) is not used: it stops at the first malformed entry, where these
readers must skip it and say which, and it knows nothing of the machine-folder fallback.
"""

from __future__ import annotations

import itertools
import json
import math
import warnings
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

SCHEMA_VERSION = 2  # the asv results file version this reader understands
COLUMNS = ["machine", "commit", "env", "date", "benchmark", "params", "value", "status", "samples", "file"]
MAX_COMBINATIONS = 100_000  # a benchmark with more parameter combinations is taken as malformed
SCALAR = (str, int, float)
# `tokfrag bench` records the fingerprint of every dataset it benchmarks as the machine parameter
# ``data_<dataset>`` (sha256 of the prepared arrays and labels); asv copies it into each results file.
DATA_PREFIX = "data_"


class ResultsWarning(UserWarning):
    pass


class NotResults(Exception):
    """``path`` is not a readable asv results file: ``error`` (not JSON) or ``version`` (wrong shape)."""

    def __init__(self, path: Path, error: Exception | None = None, version=None):
        super().__init__(str(path))
        self.path, self.error, self.version = path, error, version

    def warning(self) -> str:
        if self.error is not None:
            return f"{self.path}: skipped, not valid JSON ({self.error})"
        return f"{self.path}: skipped, not an asv results file of version {SCHEMA_VERSION}"


def _warn(message: str) -> None:
    warnings.warn(message, ResultsWarning, stacklevel=3)


def status(value) -> str:
    """ok, failed (null) or skipped (NaN)."""
    if value is None:
        return "failed"
    if isinstance(value, float) and math.isnan(value):
        return "skipped"
    return "ok"


def unquote(p):
    """A parameter value without the quotes of asv's repr (``"'pytorch'"`` -> ``pytorch``)."""
    return p[1:-1] if isinstance(p, str) and len(p) >= 2 and p[0] == p[-1] and p[0] in "'\"" else p


_INVALID = object()  # what _load_json returns for a file that is not JSON (it has warned)


def _load_json(path: Path):
    try:
        return json.loads(Path(path).read_text())
    except (OSError, ValueError, RecursionError) as e:
        _warn(f"{path}: skipped, not valid JSON ({e})")
        return _INVALID


def _str_dict(d) -> dict[str, str]:
    """A dict of scalars as str -> str (anything else in a results file is dropped)."""
    if not isinstance(d, dict):
        return {}
    return {str(k): "" if v is None else str(v) for k, v in d.items() if v is None or isinstance(v, SCALAR)}


def _at(column, i):
    return column[i] if isinstance(column, list) and i < len(column) else None


@dataclass
class Combo:
    """One benchmark x parameter combination of one results file."""

    value: object  # float, None (failed) or NaN (skipped)
    samples: list | None = None
    stats: dict = field(default_factory=dict)  # ci_99_a, ci_99_b, q_25, q_75, number, repeat


@dataclass
class ResultsFile:
    """One asv results file: ``results/<machine>/<commit>-<env>.json``."""

    path: Path
    machine: str
    env: str
    commit: str
    date: object  # as stored: asv writes the commit's date in ms
    python: str
    params: dict[str, str]  # machine fields, python and requirements, as asv merges them
    requirements: dict[str, str]
    env_vars: dict[str, str]
    columns: list
    entries: dict  # benchmark name -> {column name: value}; entries that are not lists are left out
    raw_entries: dict = field(repr=False, default_factory=dict)  # benchmark name -> the stored entry
    meta: dict = field(default_factory=dict)  # benchmark name -> its benchmarks.json entry, where a reader adds it

    @classmethod
    def read(cls, path: str | Path) -> ResultsFile:
        """The file's model; NotResults when it is not JSON or not an asv results file of SCHEMA_VERSION."""
        path = Path(path)
        try:
            doc = json.loads(path.read_text())
        except (OSError, ValueError, RecursionError) as e:
            raise NotResults(path, error=e) from e
        if (not isinstance(doc, dict) or doc.get("version") != SCHEMA_VERSION
                or not isinstance(doc.get("results"), dict) or not isinstance(doc.get("result_columns"), list)
                or "result" not in doc["result_columns"]):
            raise NotResults(path, version=doc.get("version") if isinstance(doc, dict) else "?")
        params = _str_dict(doc.get("params"))
        columns = doc["result_columns"]
        return cls(path=path, machine=params.get("machine") or path.parent.name, env=str(doc.get("env_name", "")),
                   commit=str(doc.get("commit_hash", "")), date=doc.get("date"), python=str(doc.get("python", "")),
                   params=params, requirements=_str_dict(doc.get("requirements")),
                   env_vars=_str_dict(doc.get("env_vars")), columns=columns,
                   entries={name: dict(zip(columns, e)) for name, e in doc["results"].items() if isinstance(e, list)},
                   raw_entries=doc["results"])

    def label(self) -> str:
        return f"{self.commit[:8] or '?'} ({self.path})"

    def data_fingerprints(self) -> dict[str, str]:
        """Dataset -> the fingerprint of the data benchmarked under that name (``DATA_PREFIX``), where recorded."""
        return {k[len(DATA_PREFIX):]: v for k, v in self.params.items() if k.startswith(DATA_PREFIX) and v}

    def datasets(self) -> set[str]:
        """The datasets whose pipelines (``<dataset>/<representation>...``) are parameters of this file's results."""
        out = set()
        for fields in self.entries.values():
            for values in fields.get("params") or []:
                for v in values if isinstance(values, list) else []:
                    v = unquote(v)
                    if isinstance(v, str) and "/" in v:
                        out.add(v.split("/", 1)[0])
        return out

    def header(self) -> dict:
        """What the file says about its run: machine, commit, env, date, file, python, params,
        requirements and env_vars."""
        return {"machine": self.machine, "commit": self.commit, "env": self.env, "date": self.date,
                "file": str(self.path), "python": self.python, "params": self.params,
                "requirements": self.requirements, "env_vars": self.env_vars}

    def combos(self, name: str) -> dict[tuple, Combo]:
        """params (asv's repr strings, e.g. ``"'pytorch'"``) -> Combo, for one benchmark (no checks)."""
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

    def rows(self) -> list[dict]:
        """One row per combination, validated; a malformed entry is skipped with a warning naming it.

        Each row has the keys of ``COLUMNS`` (``params`` with asv's quotes removed),
        ``raw_params``: the parameter values as asv stores them (Python reprs), which asv's
        own pages use in their URLs, and ``version``: the benchmark's code hash at that run.
        """
        path = self.path
        rows = []
        for name, entry in self.raw_entries.items():
            if not isinstance(entry, list):
                _warn(f"{path}: {name} skipped, malformed entry")
                continue
            fields = dict(zip(self.columns, entry))
            param_lists = _param_lists(fields.get("params"))
            if param_lists is None:
                _warn(f"{path}: {name} skipped, malformed parameter lists")
                continue
            keys = list(itertools.product(*param_lists)) if param_lists else [()]
            values = fields.get("result")
            if not isinstance(values, list):
                values = [values] * len(keys)
            if len(values) != len(keys):
                _warn(f"{path}: {name} skipped, {len(values)} values for {len(keys)} combinations")
                continue
            samples = fields.get("samples")
            if not isinstance(samples, list):
                samples = []
            for i, (key, value) in enumerate(zip(keys, values)):
                rows.append({
                    "machine": self.machine, "commit": self.commit, "env": self.env, "date": self.date,
                    "benchmark": str(name), "params": tuple(unquote(p) for p in key), "raw_params": key,
                    "value": value, "status": status(value),
                    "samples": samples[i] if i < len(samples) else None, "file": str(path),
                    "version": fields.get("version"),  # the benchmark code's hash when this ran
                })
        return rows


def _param_lists(value) -> list | None:
    """The entry's parameter values (one list per parameter), or None when malformed."""
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(p, list) for p in value):
        return None
    if not all(isinstance(v, SCALAR) for p in value for v in p):
        return None
    if math.prod(len(p) for p in value) > MAX_COMBINATIONS:
        return None
    return value


def read(path: str | Path) -> ResultsFile | None:
    """:meth:`ResultsFile.read`, or None with a warning naming the file when it is malformed."""
    try:
        return ResultsFile.read(path)
    except NotResults as e:
        _warn(e.warning())
        return None


def read_header(path: Path) -> dict | None:
    """What a results file says about its run (:meth:`ResultsFile.header`), or None (with a
    warning) when it is malformed."""
    results = read(path)
    return None if results is None else results.header()


def read_file(path: Path) -> list[dict]:
    """Rows of one asv results file (:meth:`ResultsFile.rows`); [] with a warning when it is malformed."""
    results = read(path)
    return [] if results is None else results.rows()


def read_benchmarks(results_dir: str | Path, warn: bool = True) -> dict[str, dict]:
    """``results/benchmarks.json``: benchmark name -> {"param_names": [...], "unit": str, "type": str,
    "version": str} (unit, type and version, the hash of the benchmark's code, where recorded)."""
    path = Path(results_dir) / "benchmarks.json"
    if not path.is_file():
        if warn:
            _warn(f"{path}: missing (asv run writes it); benchmark parameters unknown")
        return {}
    if warn:
        doc = _load_json(path)
    else:
        try:
            doc = json.loads(path.read_text())
        except (OSError, ValueError, RecursionError):
            return {}
    if not isinstance(doc, dict):
        if doc is not _INVALID and warn:
            _warn(f"{path}: skipped, not an asv benchmarks.json")
        return {}
    out = {}
    for name, entry in doc.items():
        if name == "version":
            continue
        names = entry.get("param_names") if isinstance(entry, dict) else None
        if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
            if warn:
                _warn(f"{path}: {name} skipped, malformed entry")
            continue
        out[str(name)] = {"param_names": names,
                          **{k: str(entry[k]) for k in ("unit", "type", "version") if k in entry}}
    return out


def merge_benchmarks(before: dict, after: dict) -> dict:
    """``after`` (a benchmarks.json asv just wrote) keeping the parameter values ``before`` (the file
    it replaced) listed: a run's parameter lists follow its selection (``--dataset``, ``--seeds``:
    ``benchmarks/common.py`` reads them at import), and asv's pages show only the values that
    benchmarks.json lists, so a partial run must add values, never drop them.

    Each benchmark of ``after`` whose parameter names are those it had in ``before`` gets, per
    parameter, ``after``'s values plus those of ``before`` it lacks, each after the value it followed
    there (so a run that lists every value leaves the file as asv wrote it). The rest is ``after``'s:
    a benchmark that asv no longer discovers (discovery never depends on ``-b``) is gone from the suite."""
    out = dict(after)
    for name, entry in after.items():
        old = before.get(name)
        if not (isinstance(entry, dict) and isinstance(old, dict)) or not entry.get("params") \
                or old.get("param_names") != entry.get("param_names") \
                or not isinstance(old.get("params"), list) or len(old["params"]) != len(entry["params"]) \
                or not all(isinstance(v, list) for v in old["params"]):
            continue
        params = [_merged_values(o, n) for o, n in zip(old["params"], entry["params"])]
        if params != entry["params"]:
            out[name] = {**entry, "params": params}
    return out


def _merged_values(old: list, new: list) -> list:
    """``new`` plus the values of ``old`` it lacks, each right after the value it followed in ``old``."""
    out = list(new)
    for i, value in enumerate(old):
        if value not in out:  # every earlier value of old is in out by now
            out.insert(out.index(old[i - 1]) + 1 if i else 0, value)
    return out


@contextmanager
def adding_benchmarks(results_dir: str | Path):
    """Around the asv runs of one ``tokfrag bench``: afterwards, ``<results_dir>/benchmarks.json`` is
    :func:`merge_benchmarks` of the file before them and the one they wrote (formatted as asv writes it),
    whether they succeeded or not."""
    path = Path(results_dir) / "benchmarks.json"
    try:
        before = json.loads(path.read_text())
    except (OSError, ValueError):
        before = None
    try:
        yield
    finally:
        try:
            after = json.loads(path.read_text())
        except (OSError, ValueError):
            after = None
        if isinstance(before, dict) and isinstance(after, dict):
            merged = merge_benchmarks(before, after)
            if merged != after:
                path.write_text(json.dumps(merged, indent=4, sort_keys=True))


def benchmarks_near(path: Path) -> dict[str, dict]:
    """The benchmarks.json of a results file: at the results folder's root (asv's place), else beside it."""
    for folder in (path.parent.parent, path.parent):
        meta = read_benchmarks(folder, warn=False)
        if meta:
            return meta
    return {}


def read_machines(results_dir: str | Path) -> dict[str, dict[str, str]]:
    """Every ``results/<machine>/machine.json``: machine name -> its fields (str -> str)."""
    out = {}
    for path in sorted(Path(results_dir).glob("*/machine.json")):
        doc = _load_json(path)
        if not isinstance(doc, dict):
            if doc is not _INVALID:
                _warn(f"{path}: skipped, not an asv machine.json")
            continue
        fields = _str_dict(doc)
        out[fields.get("machine") or path.parent.name] = fields
    return out


def files(results_dir: str | Path) -> list[Path]:
    """Every results file under ``results_dir/<machine>/`` (machine.json excluded), sorted."""
    return [p for p in sorted(Path(results_dir).glob("*/*.json")) if p.name != "machine.json"]
