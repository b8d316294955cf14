"""asv results files -> one pandas DataFrame row per benchmark x parameter combination.

asv stores, per machine folder, one JSON file per commit and environment. Each benchmark's
entry holds a list per ``result_columns`` name; ``result`` has one value per combination of
the benchmark's parameters (their cartesian product, in order). A NaN value means skipped,
a null one failed.
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


class ResultsWarning(UserWarning):
    pass


def _status(value) -> str:
    if value is None:
        return "failed"
    if isinstance(value, float) and math.isnan(value):
        return "skipped"
    return "ok"


def read_file(path: Path) -> list[dict]:
    """Rows of one asv results file; a malformed file is skipped with a warning naming it."""
    try:
        doc = json.loads(Path(path).read_text())
    except (OSError, ValueError) as e:
        warnings.warn(f"{path}: skipped, not valid JSON ({e})", ResultsWarning, stacklevel=2)
        return []
    if not isinstance(doc, dict) or doc.get("version") != SCHEMA_VERSION or "results" not in doc:
        warnings.warn(f"{path}: skipped, not an asv results file of version {SCHEMA_VERSION}",
                      ResultsWarning, stacklevel=2)
        return []
    columns = doc.get("result_columns") or []
    machine = str(doc.get("params", {}).get("machine", Path(path).parent.name))
    rows = []
    for name, entry in doc["results"].items():
        if not isinstance(entry, list):
            warnings.warn(f"{path}: {name} skipped, malformed entry", ResultsWarning, stacklevel=2)
            continue
        fields = dict(zip(columns, entry))
        values = fields.get("result")
        param_lists = fields.get("params") or []
        combos = list(itertools.product(*param_lists)) if param_lists else [()]
        if not isinstance(values, list):
            values = [values] * len(combos)
        if len(values) != len(combos):
            warnings.warn(f"{path}: {name} skipped, {len(values)} values for {len(combos)} combinations",
                          ResultsWarning, stacklevel=2)
            continue
        samples = fields.get("samples") or [None] * len(combos)
        for i, (combo, value) in enumerate(zip(combos, values)):
            rows.append({
                "machine": machine, "commit": doc.get("commit_hash", ""), "env": doc.get("env_name", ""),
                "date": doc.get("date"), "benchmark": name,
                "params": tuple(_unquote(p) for p in combo), "value": value, "status": _status(value),
                "samples": samples[i] if i < len(samples) else None, "file": str(path),
            })
    return rows


def _unquote(p):
    return p[1:-1] if isinstance(p, str) and len(p) >= 2 and p[0] == p[-1] == "'" else p


def load(results_dir: str | Path) -> pd.DataFrame:
    """Every results file under ``results_dir/<machine>/`` (machine.json and benchmarks.json excluded)."""
    rows = []
    for path in sorted(Path(results_dir).glob("*/*.json")):
        if path.name == "machine.json":
            continue
        rows.extend(read_file(path))
    return pd.DataFrame(rows, columns=COLUMNS)
