"""The latest results of every machine -> leaderboard rows, cells and head-to-head pairs.

A row is one pipeline x framework x device (x any extra parameter a benchmark adds later, such
as ``mode`` or ``precision``) on one machine, at that machine's latest commit. A benchmark with
fewer parameters than a row (``Parity.track_parity`` has ``pipeline`` only) is broadcast to
every row that agrees with it. A parameter with a default (``PARAM_DEFAULTS``: the default
suite trains and times in ``mode=default``, ``precision=fp32``) is filled in where a benchmark
lacks it, so the accuracy of an fp32 run never shows on a bf16 row. A ``seed`` parameter is
never part of a row: its values are averaged (mean ± sd).

A benchmark whose parameters are exactly ``SCALING_PARAMS`` (``bench_perf.Scaling``: framework,
representation, window) makes no row: its step time, peak memory and sequence length become the
``ScalingPoint``s of ``Board.scaling``, which the page plots as cost against sequence length.

Everything read here is untrusted: a value outside its column's plausible range, an unknown
benchmark or a malformed file is skipped with a ``LeaderboardWarning`` naming the file.
"""

from __future__ import annotations

import itertools
import math
import re
import statistics
import warnings
from collections import defaultdict
from dataclasses import dataclass, field, replace
from pathlib import Path
from urllib.parse import quote

from .. import results
from ..errors import LeaderboardError
from ..params import count as count_parameters
from ..spec import get_pipeline
from .columns import BY_METHOD, COLUMNS, PARITY, TIME_LIMIT, Column, count, memory, seconds

ROW_PARAMS = ("pipeline", "framework")  # a benchmark with both makes rows; others are broadcast
KEY_ORDER = ("pipeline", "framework", "device")
SEED = "seed"
# what a benchmark without the parameter measured (bench_pipelines has neither; bench_perf both)
PARAM_DEFAULTS = {"mode": "default", "precision": "fp32"}
MAX_PARAMS = 8  # a benchmark with more parameters is taken as malformed (rows match on their subsets)
# machine fields shown as context (asv also copies them into every results file's params)
MACHINE_FIELDS = ("cpu", "num_cpu", "ram", "gpu", "gpu_driver", "cuda", "os", "arch")
# packages whose versions are shown when a results file or machine.json records them
PACKAGES = ("torch", "torchvision", "timm", "tensorflow", "tensorflow-cpu", "keras", "numpy", "cudnn")

# --- cost scaling (bench_perf.Scaling): one point per framework x representation x window
SCALING_PARAMS = ("framework", "representation", "window")
SCALING_DEVICE = "cpu"  # Scaling runs on the CPU only
MAX_WINDOW = 100_000  # pixels: a larger window (or one that is not a whole number) is malformed
SCALING_UNITS = Column("units", "track_seq_len", "Units", "units",
                       "sequence length: units per image (fragments or tokens)", 1, 1e7, count)
SCALING_STEP = Column("step_seconds", "time_train_step", "Train step", "s",
                      "one AdamW step on one batch, on the CPU", 1e-9, TIME_LIMIT, seconds)
SCALING_MEMORY = Column("peak_memory", "peakmem_train_step", "Peak RSS", "bytes",
                        "peak host memory over three training steps", 1, 2.0**50, memory)
SCALING_COLUMNS: tuple[Column, ...] = (SCALING_UNITS, SCALING_STEP, SCALING_MEMORY)
# bench_perf.Peak (device x precision): a property of the machine, shown with it (MFU's denominator)
PEAK = Column("peak", "track_peak_flops", "Matmul peak", "FLOP/s",
              "the machine's measured matmul peak per device and precision: the denominator of MFU",
              1, 1e18, count, higher_is_better=True)
SCALING_BY_METHOD: dict[str, Column] = {c.method: c for c in SCALING_COLUMNS}


class LeaderboardWarning(results.ResultsWarning):
    pass


def _warn(message: str) -> None:
    warnings.warn(message, LeaderboardWarning, stacklevel=3)


@dataclass
class Cell:
    """One metric of one row: ``status`` is ok, skipped (NaN), failed (null), missing or not reached."""

    status: str
    mean: float | None = None
    sd: float | None = None
    n: int = 0
    link: str = ""  # asv's graph page for this benchmark and combination


@dataclass
class Row:
    machine: str
    params: dict[str, str]  # pipeline, framework, device, then any extra parameter (seed excluded)
    cells: dict[str, Cell]  # column key -> cell, parity included
    param_count: int | None

    @property
    def pipeline(self) -> str:
        return self.params["pipeline"]

    @property
    def dataset(self) -> str:
        return self.pipeline.split("/", 1)[0]

    @property
    def device(self) -> str:
        return self.params.get("device", "")

    def value(self, key: str) -> float | None:
        cell = self.cells[key]
        return cell.mean if cell.status == "ok" else None


@dataclass
class Machine:
    name: str
    commit: str
    date: float | None  # the commit's date, ms since the epoch (asv's convention)
    fields: dict[str, str]  # MACHINE_FIELDS that are known
    python: str
    versions: dict[str, str]
    peaks: dict[str, float] = field(default_factory=dict)  # "cpu fp32" -> FLOP/s (bench_perf.Peak)


@dataclass
class Duel:
    """Two rows that differ in one parameter only: ``a`` against ``b``."""

    a: Row
    b: Row

    @property
    def accuracy_diff(self) -> float | None:
        a, b = self.a.value("accuracy"), self.b.value("accuracy")
        return None if a is None or b is None else a - b

    @property
    def speed_ratio(self) -> float | None:
        a, b = self.a.value("throughput"), self.b.value("throughput")
        return None if a is None or not b else a / b


@dataclass
class ScalingPoint:
    """One framework x representation x window of ``bench_perf.Scaling`` on one machine.

    ``units`` (the sequence length), ``step_seconds`` and ``peak_memory`` are None unless that
    metric is ok; ``cells`` keeps each metric's status and asv link (keyed on SCALING_COLUMNS)."""

    machine: str
    framework: str
    representation: str
    window: int  # pixels per side of a square window
    units: int | None
    step_seconds: float | None
    peak_memory: float | None
    device: str = SCALING_DEVICE
    cells: dict[str, Cell] = field(default_factory=dict)


@dataclass
class Board:
    rows: list[Row]
    machines: dict[str, Machine]
    extra_params: list[str] = field(default_factory=list)  # row parameters beyond KEY_ORDER
    scaling: list[ScalingPoint] = field(default_factory=list)  # ordered by framework, representation, machine, window

    def datasets(self) -> dict[str, list[Row]]:
        """Dataset -> its rows, ranked by accuracy (rows without one last), then throughput."""
        out: dict[str, list[Row]] = defaultdict(list)
        for row in self.rows:
            out[row.dataset].append(row)

        def rank(row):
            acc, thr = row.value("accuracy"), row.value("throughput")
            return (acc is None, -(acc or 0.0), thr is None, -(thr or 0.0), row.machine, sorted(row.params.items()))

        return {name: sorted(rows, key=rank) for name, rows in sorted(out.items())}

    def devices(self) -> list[str]:
        return sorted({row.device for row in self.rows} | {p.device for p in self.scaling})


def parity_text(cell: Cell) -> str:
    """The parity badge: 0 failed checks -> pass, N -> fail (N checks), NaN -> not checked."""
    if cell.status == "ok":
        n = math.ceil(cell.mean)
        return "pass" if n == 0 else f"fail ({n} check{'s' if n > 1 else ''})"
    return {"skipped": "not checked", "missing": "—"}.get(cell.status, cell.status)


# --- reading ---------------------------------------------------------------------------

@dataclass(frozen=True)
class Record:
    machine: str
    column: Column
    params: frozenset  # (name, value) pairs, seed excluded
    seed: str | None
    value: float | None
    status: str
    link: str


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


def _is_scaling(names: list | None) -> bool:
    return names is not None and len(names) == len(SCALING_PARAMS) and set(names) == set(SCALING_PARAMS)


def _window(value: str) -> int | None:
    """A window parameter (asv stores ``2``, or ``'2'`` if a suite passes strings) as pixels, or None."""
    text = str(value).strip()
    if not re.fullmatch(r"[0-9]{1,6}", text) or not 0 < int(text) <= MAX_WINDOW:
        return None
    return int(text)


def _date(header: dict) -> float:
    d = header["date"]
    if isinstance(d, bool) or not isinstance(d, (int, float)) or not math.isfinite(d):
        _warn(f"{header['file']}: no valid date; ranked as the oldest commit of {header['machine']!r}")
        return -math.inf
    return float(d)


def _latest(headers: list[dict]) -> dict[str, list[dict]]:
    """Machine -> the headers of its latest commit (by date), oldest file first."""
    by_machine: dict[str, list[tuple[float, dict]]] = defaultdict(list)
    for h in headers:
        by_machine[h["machine"]].append((_date(h), h))
    out = {}
    for machine, dated in by_machine.items():
        best = max(dated, key=lambda dh: (dh[0], dh[1]["file"]))[1]
        same = [dh for dh in dated if dh[1]["commit"] == best["commit"]]
        out[machine] = [h for _, h in sorted(same, key=lambda dh: (dh[0], dh[1]["file"]))]
    return out


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


def _records(rows: list[dict], meta: dict[str, dict], warned: set) -> list[Record]:
    """Validated records of one results file; unusable ones are dropped with a warning."""
    out = []
    failed = 0
    for r in rows:
        name, path = r["benchmark"], r["file"]
        names = meta.get(name, {}).get("param_names")
        scaling = _is_scaling(names)
        method = name.rsplit(".", 1)[-1]
        column = PEAK if method == PEAK.method else (SCALING_BY_METHOD if scaling else BY_METHOD).get(method)
        problem = _problem(column, names, len(r["params"]))
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
            window = _window(params["window"])
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
        out.append(Record(r["machine"], column, frozenset(params.items()), seed,
                          float(value) if status == "ok" else None, status, asv_link(name, r["machine"], raw)))
    if failed:
        _warn(f"{rows[0]['file']}: {failed} benchmark combination(s) failed (shown as 'failed')")
    return out


def _with_defaults(records: list[Record]) -> list[Record]:
    """Records with each defaulted parameter that any row-making record has filled in where they
    lack it (parity, a property of the pipeline, stays broadcast to every row)."""
    present = {k for r in records if all(p in dict(r.params) for p in ROW_PARAMS)
               for k, _ in r.params if k in PARAM_DEFAULTS}
    out = []
    for r in records:
        missing = {(k, PARAM_DEFAULTS[k]) for k in present if k not in dict(r.params)}
        out.append(r if r.column is PARITY or not missing else replace(r, params=r.params | missing))
    return out


def _aggregate(records: list[Record]) -> Cell:
    if not records:
        return Cell("missing")
    link = records[0].link
    ok = [r.value for r in records if r.status == "ok"]
    if ok:
        return Cell("ok", statistics.fmean(ok), statistics.stdev(ok) if len(ok) > 1 else None, len(ok), link)
    return Cell("failed" if any(r.status == "failed" for r in records) else "skipped", link=link)


def _param_count(pipeline: str) -> int | None:
    try:
        return count_parameters(get_pipeline(pipeline))
    except (KeyError, ValueError):  # a pipeline this checkout does not define
        return None


def _ordered(params: frozenset) -> dict[str, str]:
    d = dict(params)
    return {k: d[k] for k in sorted(d, key=lambda k: (KEY_ORDER.index(k) if k in KEY_ORDER else len(KEY_ORDER), k))}


def _subsets(params: frozenset) -> list[frozenset]:
    """Every subset of a row's parameters, largest first (at most 2**MAX_PARAMS)."""
    items = sorted(params)
    return [frozenset(c) for n in range(len(items), -1, -1) for c in itertools.combinations(items, n)]


def _rows(records: list[Record]) -> list[Row]:
    keys = {(r.machine, r.params) for r in records
            if r.column is not PARITY and all(p in dict(r.params) for p in ROW_PARAMS)}
    # a key that another on the same machine extends is broadcast into it, not a row of its own
    keys -= {(m, sub) for m, params in keys for sub in _subsets(params)[1:]}
    by_key: dict[tuple, list[Record]] = defaultdict(list)  # one record per seed
    for r in records:
        by_key[(r.machine, r.column.key, r.params)].append(r)
    rows = []
    for machine, params in keys:
        subsets = _subsets(params)
        cells = {c.key: _aggregate([r for sub in subsets for r in by_key.get((machine, c.key, sub), ())])
                 for c in COLUMNS + (PARITY,)}
        ttt = cells["time_to_target"]
        if ttt.status == "skipped" and cells["accuracy"].status == "ok":  # trained, never reached the target
            cells["time_to_target"] = Cell("not reached", link=ttt.link)
        ordered = _ordered(params)
        rows.append(Row(machine, ordered, cells, _param_count(ordered["pipeline"])))
    return rows


def _scaling(records: list[Record]) -> list[ScalingPoint]:
    """One point per machine x framework x representation x window of the scaling records."""
    by_point: dict[tuple, dict[str, list[Record]]] = defaultdict(lambda: defaultdict(list))
    for r in records:
        p = dict(r.params)
        by_point[(r.machine, p["framework"], p["representation"], int(p["window"]))][r.column.key].append(r)
    points = []
    for (machine, framework, representation, window), by_key in by_point.items():
        cells = {c.key: _aggregate(by_key.get(c.key, [])) for c in SCALING_COLUMNS}
        value = {k: cell.mean if cell.status == "ok" else None for k, cell in cells.items()}
        units = value[SCALING_UNITS.key]
        points.append(ScalingPoint(machine, framework, representation, window,
                                   None if units is None else int(units), value[SCALING_STEP.key],
                                   value[SCALING_MEMORY.key], cells=cells))
    return sorted(points, key=lambda p: (p.framework, p.representation, p.machine, p.window))


def _not_run(row: Row) -> bool:
    """A row of a non-default mode or precision with no result at all: a combination that a
    partial run (`tokfrag bench --perf`, asv -b) did not select, which asv stores as skipped.
    (A default row that skipped everything stays: that is a device or framework missing here.)"""
    extra = any(row.params.get(k, d) != d for k, d in PARAM_DEFAULTS.items())
    return extra and all(c.status in ("missing", "skipped") for k, c in row.cells.items() if k != PARITY.key)


def _machine(name: str, headers: list[dict], machine_json: dict[str, str]) -> Machine:
    head = headers[-1]
    sources = (machine_json, head["params"], head["requirements"], head["env_vars"])
    fields = {}
    versions = {}
    for src in sources:
        for k, v in src.items():
            if k in MACHINE_FIELDS:
                fields.setdefault(k, v)
            package = k.split("+")[-1].lower()  # asv matrix keys may read "pip+torch"
            if package in PACKAGES and v:
                versions.setdefault(package, v)
    date = head["date"] if isinstance(head["date"], (int, float)) and math.isfinite(head["date"]) else None
    return Machine(name, head["commit"], date, fields, head["python"] or head["params"].get("python", ""), versions)


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
    latest = _latest([h for h in map(results.read_header, paths) if h is not None])
    unique: dict[tuple, Record] = {}  # a later file of the same commit overrides an earlier one
    unique_scaling: dict[tuple, Record] = {}
    warned: set = set()
    records = [r for headers in latest.values() for h in headers
               for r in _records(results.read_file(Path(h["file"])), meta, warned)]
    peaks: dict[str, dict[str, float]] = defaultdict(dict)
    for r in records:
        if r.column is PEAK and r.status == "ok":
            p = dict(r.params)
            peaks[r.machine][f"{p.get('device', '')} {p.get('precision', '')}".strip()] = r.value
    records = [r for r in records if r.column is not PEAK]
    for r in _with_defaults([r for r in records if r.column not in SCALING_COLUMNS]):
        key = (r.machine, r.column.key, r.params, r.seed)
        # bench_perf's default/fp32 combinations fill the same cells as the default suite's
        # benchmarks; where a partial run skipped them (NaN), the default suite's value stays
        if not (r.status == "skipped" and key in unique and unique[key].status == "ok"):
            unique[key] = r
    for r in records:
        if r.column in SCALING_COLUMNS:
            unique_scaling[(r.machine, r.column.key, r.params, r.seed)] = r
    rows = [row for row in _rows(list(unique.values())) if not _not_run(row)]
    scaling = _scaling(list(unique_scaling.values()))
    if not rows and not scaling:
        raise LeaderboardError(f"{results_dir}: no usable leaderboard results (see the warnings above)")
    shown = {row.machine for row in rows} | {p.machine for p in scaling}
    machines = {name: _machine(name, headers, machine_json.get(name, {})) for name, headers in sorted(latest.items())
                if name in shown}
    for name, machine in machines.items():
        machine.peaks = dict(sorted(peaks.get(name, {}).items()))
    extra = sorted({k for row in rows for k in row.params} - set(KEY_ORDER))
    return Board(rows, machines, extra, scaling)


# --- head to head ----------------------------------------------------------------------

def split_pipeline(name: str) -> tuple[str, str, str]:
    """``mnist/token@article`` -> ("mnist", "token", "article")."""
    dataset, _, rest = name.partition("/")
    representation, _, variant = rest.partition("@")
    return dataset, representation, variant


def row_value(row: Row, param: str) -> str:
    """A row's parameter; ``representation`` is read from the pipeline name."""
    return split_pipeline(row.pipeline)[1] if param == "representation" else row.params.get(param, "")


def _pairs(rows: list[Row], param: str, a: str, b: str, key) -> list[Duel]:
    groups: dict[tuple, dict[str, Row]] = defaultdict(dict)
    for row in rows:
        groups[key(row)][row_value(row, param)] = row
    return [Duel(g[a], g[b]) for k, g in sorted(groups.items()) if a in g and b in g]


def token_vs_fragment(rows: list[Row]) -> list[Duel]:
    """Token (a) against fragment (b): same dataset, variant, framework, device, machine."""
    def key(row):
        dataset, _, variant = split_pipeline(row.pipeline)
        others = tuple((k, v) for k, v in row.params.items() if k != "pipeline")
        return (dataset, variant, row.machine, others)
    return _pairs(rows, "representation", "token", "fragment", key)


def tensorflow_vs_pytorch(rows: list[Row]) -> list[Duel]:
    """TensorFlow (a) against PyTorch (b): same pipeline, device, machine."""
    def key(row):
        return (row.machine, tuple((k, v) for k, v in row.params.items() if k != "framework"))
    return _pairs(rows, "framework", "tensorflow", "pytorch", key)
