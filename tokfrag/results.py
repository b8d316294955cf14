"""asv results files -> one pandas DataFrame row per benchmark x parameter combination.

asv stores, per machine folder, one JSON file per commit and environment. Each benchmark's
entry holds a list per ``result_columns`` name; ``result`` has one value per combination of
the benchmark's parameters (their cartesian product, in order). A NaN value means skipped,
a null one failed. Beside them, ``results/benchmarks.json`` names every benchmark's
parameters and each ``results/<machine>/machine.json`` describes the machine.

Results folders are merged from many machines, so everything here is read defensively: a
file or entry that does not have the expected shape is skipped with a ``ResultsWarning``
naming the file, never an exception.
"""

from __future__ import annotations

import itertools
import json
import math
import warnings
from pathlib import Path

import pandas as pd

SCHEMA_VERSION = 2  # the asv results file version this reader understands
COLUMNS = ["machine", "commit", "env", "date", "benchmark", "params", "value", "status", "samples", "file"]
MAX_COMBINATIONS = 100_000  # a benchmark with more parameter combinations is taken as malformed
SCALAR = (str, int, float)


class ResultsWarning(UserWarning):
    pass


def _warn(message: str) -> None:
    warnings.warn(message, ResultsWarning, stacklevel=3)


def _status(value) -> str:
    if value is None:
        return "failed"
    if isinstance(value, float) and math.isnan(value):
        return "skipped"
    return "ok"


_INVALID = object()  # what _load_json returns for a file that is not JSON (it has warned)


def _load_json(path: Path):
    try:
        return json.loads(Path(path).read_text())
    except (OSError, ValueError, RecursionError) as e:
        _warn(f"{path}: skipped, not valid JSON ({e})")
        return _INVALID


def _results_doc(path: Path) -> dict | None:
    doc = _load_json(path)
    if doc is _INVALID:
        return None
    if (not isinstance(doc, dict) or doc.get("version") != SCHEMA_VERSION
            or not isinstance(doc.get("results"), dict) or not isinstance(doc.get("result_columns"), list)
            or "result" not in doc["result_columns"]):
        _warn(f"{path}: skipped, not an asv results file of version {SCHEMA_VERSION}")
        return None
    return doc


def _str_dict(d) -> dict[str, str]:
    """A dict of scalars as str -> str (anything else in a results file is dropped)."""
    if not isinstance(d, dict):
        return {}
    return {str(k): "" if v is None else str(v) for k, v in d.items() if v is None or isinstance(v, SCALAR)}


def _header(doc: dict, path: Path) -> dict:
    params = _str_dict(doc.get("params"))
    return {
        "machine": params.get("machine") or Path(path).parent.name,
        "commit": str(doc.get("commit_hash", "")),
        "env": str(doc.get("env_name", "")),
        "date": doc.get("date"),
        "file": str(path),
    }


def read_header(path: Path) -> dict | None:
    """What a results file says about its run, or None (with a warning) when it is malformed.

    Keys: machine, commit, env, date (as stored: asv writes the commit's date in ms), file,
    python, params (machine fields, python and requirements, as asv merges them),
    requirements and env_vars (all str -> str).
    """
    doc = _results_doc(path)
    if doc is None:
        return None
    return dict(_header(doc, path), python=str(doc.get("python", "")), params=_str_dict(doc.get("params")),
                requirements=_str_dict(doc.get("requirements")), env_vars=_str_dict(doc.get("env_vars")))


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


def read_file(path: Path) -> list[dict]:
    """Rows of one asv results file; a malformed file or entry is skipped with a warning naming it.

    Each row has the keys of ``COLUMNS`` (``params`` with asv's quotes removed) and
    ``raw_params``: the parameter values as asv stores them (Python reprs), which asv's
    own pages use in their URLs.
    """
    doc = _results_doc(path)
    if doc is None:
        return []
    head = _header(doc, path)
    columns = doc["result_columns"]
    rows = []
    for name, entry in doc["results"].items():
        if not isinstance(entry, list):
            _warn(f"{path}: {name} skipped, malformed entry")
            continue
        fields = dict(zip(columns, entry))
        param_lists = _param_lists(fields.get("params"))
        if param_lists is None:
            _warn(f"{path}: {name} skipped, malformed parameter lists")
            continue
        combos = list(itertools.product(*param_lists)) if param_lists else [()]
        values = fields.get("result")
        if not isinstance(values, list):
            values = [values] * len(combos)
        if len(values) != len(combos):
            _warn(f"{path}: {name} skipped, {len(values)} values for {len(combos)} combinations")
            continue
        samples = fields.get("samples")
        if not isinstance(samples, list):
            samples = []
        for i, (combo, value) in enumerate(zip(combos, values)):
            rows.append({
                "machine": head["machine"], "commit": head["commit"], "env": head["env"], "date": head["date"],
                "benchmark": str(name), "params": tuple(_unquote(p) for p in combo), "raw_params": combo,
                "value": value, "status": _status(value),
                "samples": samples[i] if i < len(samples) else None, "file": str(path),
            })
    return rows


def _unquote(p):
    return p[1:-1] if isinstance(p, str) and len(p) >= 2 and p[0] == p[-1] == "'" else p


def read_benchmarks(results_dir: str | Path) -> dict[str, dict]:
    """``results/benchmarks.json``: benchmark name -> {"param_names": [...], "unit": str, "type": str}."""
    path = Path(results_dir) / "benchmarks.json"
    if not path.is_file():
        _warn(f"{path}: missing (asv run writes it); benchmark parameters unknown")
        return {}
    doc = _load_json(path)
    if not isinstance(doc, dict):
        if doc is not _INVALID:
            _warn(f"{path}: skipped, not an asv benchmarks.json")
        return {}
    out = {}
    for name, entry in doc.items():
        if name == "version":
            continue
        names = entry.get("param_names") if isinstance(entry, dict) else None
        if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
            _warn(f"{path}: {name} skipped, malformed entry")
            continue
        out[str(name)] = {"param_names": names, "unit": str(entry.get("unit", "")), "type": str(entry.get("type", ""))}
    return out


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


def load(results_dir: str | Path) -> pd.DataFrame:
    """Every results file under ``results_dir/<machine>/`` (machine.json and benchmarks.json excluded)."""
    rows = []
    for path in files(results_dir):
        rows.extend(read_file(path))
    return pd.DataFrame(rows, columns=COLUMNS)
