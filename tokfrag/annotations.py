"""A maintainer's annotations of committed results: values to keep off verdicts, plots and the gate.

``results/annotations.toml`` (next to ``benchmarks.json``; optional) holds ``[[exclude]]`` entries::

    [[exclude]]
    machine = "epyc-avx512-2c"     # required: the machine whose results it marks
    metrics = "speed"              # "speed", "accuracy", "all", or a list of benchmark methods / column keys
    commit = "bdfd624"             # optional: a prefix of the commit whose results it marks (default: any)
    pipeline = "mnist/token"       # optional: any parameter the result must have (framework, backbone, ...)
    reason = "measured while a test suite shared the cores"   # required: shown on the page

An excluded value stays in the results and in every export (with its reason); the leaderboard
shows it greyed with the reason on hover and uses it for no ranking, plot or verdict, and
``tokfrag compare`` does not judge it. A malformed file is an error that names the entry: a
silently ignored exclusion would publish what a maintainer meant to hide.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from .errors import UsageError

FILENAME = "annotations.toml"
ACCURACY_METHODS = frozenset({"track_accuracy"})
# what a busy neighbour distorts: every timing, and every figure made from one
SPEED_METHODS = frozenset({"track_time_to_target", "track_train_throughput", "track_mfu_train", "track_train_flops",
                           "track_first_step", "track_throughput", "track_scaling_efficiency",
                           "track_communication_share", "track_peak_flops"})
GROUPS = {"speed", "accuracy", "all"}
KNOWN = {"machine", "metrics", "commit", "reason"}


def is_speed(method: str) -> bool:
    return method.startswith("time_") or method in SPEED_METHODS


@dataclass(frozen=True)
class Exclusion:
    machine: str
    metrics: tuple[str, ...]  # groups (speed, accuracy, all) or benchmark methods / column keys
    reason: str
    commit: str = ""
    params: dict[str, str] = field(default_factory=dict)

    def covers(self, machine: str, commit: str, method: str, params: dict, key: str = "") -> bool:
        if machine != self.machine or (self.commit and not str(commit).startswith(self.commit)):
            return False
        if any(str(params.get(k)) != v for k, v in self.params.items()):
            return False
        return any(m == "all" or (m == "speed" and is_speed(method)) or (m == "accuracy" and method in ACCURACY_METHODS)
                   or m in (method, key) for m in self.metrics)


@dataclass(frozen=True)
class Annotations:
    exclusions: tuple[Exclusion, ...] = ()
    path: str = ""

    def excluded(self, machine: str, commit: str, method: str, params: dict, key: str = "") -> str:
        """The reason a result is excluded ("" when it is not)."""
        return next((e.reason for e in self.exclusions if e.covers(machine, commit, method, params, key)), "")


def _entry(i: int, doc: dict, where: str) -> Exclusion:
    at = f"{where}: [[exclude]] #{i + 1}"
    if not isinstance(doc, dict):
        raise UsageError(f"{at} is not a table")
    for k in ("machine", "reason"):
        if not isinstance(doc.get(k), str) or not doc[k].strip():
            raise UsageError(f"{at}: needs {k} = \"...\" (a non-empty string)")
    metrics = doc.get("metrics", "all")
    metrics = [metrics] if isinstance(metrics, str) else metrics
    if not isinstance(metrics, list) or not metrics or not all(isinstance(m, str) and m for m in metrics):
        raise UsageError(f"{at}: metrics must be \"speed\", \"accuracy\", \"all\" or a list of benchmark methods")
    params = {k: v for k, v in doc.items() if k not in KNOWN}
    if not all(isinstance(v, str) for v in params.values()) or not isinstance(doc.get("commit", ""), str):
        raise UsageError(f"{at}: commit and parameters ({', '.join(params) or 'none'}) must be strings")
    return Exclusion(doc["machine"], tuple(metrics), doc["reason"].strip(), doc.get("commit", ""), params)


def read(results_dir: str | Path) -> Annotations:
    """``results_dir/annotations.toml`` (no file: no annotation). Raises UsageError on a malformed one."""
    path = Path(results_dir) / FILENAME
    if not path.is_file():
        return Annotations()
    try:
        doc = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as e:
        raise UsageError(f"{path}: not valid TOML ({e})") from None
    unknown = set(doc) - {"exclude"}
    if unknown:
        raise UsageError(f"{path}: unknown section(s) {', '.join(sorted(unknown))}; expected [[exclude]] entries")
    entries = doc.get("exclude", [])
    if not isinstance(entries, list):
        raise UsageError(f"{path}: exclude must be an array of tables ([[exclude]])")
    return Annotations(tuple(_entry(i, e, str(path)) for i, e in enumerate(entries)), str(path))
