"""The leaderboard's data: rows of cells, machines, head-to-head duels and cost-scaling points.

What ``render`` and ``export`` read; ``model.build`` makes it from the results.

A cell keeps what its mean was made of (each seed's value, asv's timing samples), so that a
duel can pair two rows seed by seed and compare step times with an interval (``tokfrag.stats``)
rather than from two means alone.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, field
from functools import cached_property

from .. import stats
from ..backbones import sort_key
from .columns import PARITY

SCALING_DEVICE = "cpu"  # bench_perf.Scaling runs on the CPU only
NO_SEED = "default"  # the seed key of a benchmark without a seed parameter: one run with the spec's seed
THROUGHPUT_ONLY = "throughput only: no interval"  # speed verdict of a pair without step samples on both sides
NO_COMMON_SEED = "no seed in common: no interval"


def seed_order(seed: str):
    """Seeds in numeric order ("2" before "10"), named ones after."""
    return (0, int(seed), "") if seed.isdecimal() else (1, 0, seed)


@dataclass
class Cell:
    """One metric of one row: ``status`` is ok, skipped (NaN), failed (null), missing or not reached."""

    status: str
    mean: float | None = None
    sd: float | None = None
    n: int = 0
    link: str = ""  # asv's graph page for this benchmark and combination
    values: dict[str, float] = field(default_factory=dict)  # seed (NO_SEED without one) -> value, ok runs only
    samples: tuple[float, ...] = ()  # asv's timing samples (time_* benchmarks run with --record-samples)
    excluded: str = ""  # results/annotations.toml's reason to keep it off rankings, plots and verdicts

    @property
    def usable(self) -> bool:
        """Measured and not excluded: what rankings, plots and verdicts may use."""
        return self.status == "ok" and not self.excluded

    @property
    def summary(self) -> stats.Summary | None:
        """Mean, sd and the 95% t interval of the mean over the seeds."""
        return stats.summarize(self.values.values()) if self.values else None

    @property
    def spread(self) -> float | None:
        """Relative interquartile range of the timing samples (None with fewer than 3)."""
        return stats.relative_iqr(self.samples)

    @property
    def noisy(self) -> bool:
        """The samples spread more than stats.NOISY: re-measure, and decide no verdict with them."""
        return stats.is_noisy(self.samples)


@dataclass
class Row:
    machine: str
    params: dict[str, str]  # pipeline, framework, device, then any extra parameter (seed excluded)
    cells: dict[str, Cell]  # column key -> cell, parity included
    param_count: int | None
    commits: tuple[str, ...] = ()  # the commits whose results fill its measured cells

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
        """The cell's mean, None unless it is measured and not excluded (results/annotations.toml)."""
        cell = self.cells[key]
        return cell.mean if cell.usable else None

    @property
    def measured(self) -> bool:
        """Any metric is ok (parity, a property of the pipeline broadcast to every row, does not count):
        a row that measured nothing is a combination this machine cannot run, hidden by default."""
        return any(c.status == "ok" for k, c in self.cells.items() if k != PARITY.key)


@dataclass
class Machine:
    name: str
    commit: str
    date: float | None  # the commit's date, ms since the epoch (asv's convention)
    fields: dict[str, str]  # MACHINE_FIELDS that are known
    python: str
    versions: dict[str, str]
    peaks: dict[str, float] = field(default_factory=dict)  # "cpu fp32" -> FLOP/s (bench_perf.Peak)
    # older commits whose results fill cells the latest commit did not measure: (commit, date), newest first
    earlier: list[tuple[str, float | None]] = field(default_factory=list)


@dataclass
class Duel:
    """Two rows that differ in one parameter only: ``a`` against ``b``, named ``names`` in verdicts.

    Accuracy is compared seed by seed (``accuracy``: stats.paired), speed by the ratio of step times
    from asv's samples (``step``: stats.ratio, a / b, lower is faster); where either side has no step
    samples, by the throughput ratio alone (``time_ratio``, no interval)."""

    a: Row
    b: Row
    names: tuple[str, str] = ("a", "b")  # ("token", "fragment"), ("TensorFlow", "PyTorch")

    @property
    def accuracy_diff(self) -> float | None:
        a, b = self.a.value("accuracy"), self.b.value("accuracy")
        return None if a is None or b is None else a - b

    @property
    def speed_ratio(self) -> float | None:
        """Throughput a / b (above 1: a trains more samples per second)."""
        a, b = self.a.value("throughput"), self.b.value("throughput")
        return None if a is None or not b else a / b

    @cached_property
    def accuracy(self) -> stats.Interval | None:
        """a - b in accuracy points over the seeds both rows ran, with its 95% interval."""
        if self.accuracy_diff is None:
            return None
        return stats.paired(self.a.cells["accuracy"].values, self.b.cells["accuracy"].values)

    @property
    def accuracy_verdict(self) -> str:
        if self.accuracy_diff is not None and self.accuracy is None:
            return NO_COMMON_SEED
        return stats.verdict(self.accuracy, *self.names)

    @cached_property
    def step(self) -> stats.Interval | None:
        """Step time a / b from asv's samples of both rows, with its 95% interval (None without samples)."""
        a, b = self.a.cells["train_step"], self.b.cells["train_step"]
        if not a.usable or not b.usable:
            return None
        return stats.ratio(a.samples, b.samples)

    @property
    def time_ratio(self) -> float | None:
        """Time a / b (above 1: a is slower): of a step, or per sample from the throughputs."""
        if self.step is not None:
            return self.step.estimate
        return 1 / self.speed_ratio if self.speed_ratio else None

    @property
    def speed_verdict(self) -> str:
        if self.step is not None:
            return stats.faster(self.step, *self.names)
        return THROUGHPUT_ONLY if self.time_ratio is not None else stats.NOT_MEASURED


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

    @property
    def measured(self) -> bool:
        return any(v is not None for v in (self.units, self.step_seconds, self.peak_memory))


@dataclass
class Board:
    rows: list[Row]
    machines: dict[str, Machine]
    extra_params: list[str] = field(default_factory=list)  # row parameters beyond KEY_ORDER
    scaling: list[ScalingPoint] = field(default_factory=list)  # ordered by framework, representation, machine, window
    # dataset -> {machine: the fingerprint of the data its latest results were measured on} (where recorded)
    data: dict[str, dict[str, str]] = field(default_factory=dict)
    curves: list[dict] = field(default_factory=list)  # every run's learning curve (tokfrag.curves.read)

    def datasets(self) -> dict[str, list[Row]]:
        """Dataset -> its rows, ranked by accuracy (rows without one last), then throughput; rows that
        measured nothing come last."""
        out: dict[str, list[Row]] = defaultdict(list)
        for row in self.rows:
            out[row.dataset].append(row)

        def rank(row):  # rows that measured nothing last
            acc, thr = row.value("accuracy"), row.value("throughput")
            return (acc is None, -(acc or 0.0), thr is None, -(thr or 0.0), not row.measured, row.machine,
                    sorted(row.params.items()))

        return {name: sorted(rows, key=rank) for name, rows in sorted(out.items())}

    def devices(self) -> list[str]:
        return sorted({row.device for row in self.rows} | {p.device for p in self.scaling})

    def backbones(self) -> list[str]:
        """The backbones the rows measured, the default (transformer) first."""
        return sorted({row.params["backbone"] for row in self.rows if "backbone" in row.params}, key=sort_key)


def parity_text(cell: Cell) -> str:
    """The parity badge: 0 failed checks -> pass, N -> fail (N checks), NaN -> not checked."""
    if cell.status == "ok":
        n = math.ceil(cell.mean)
        return "pass" if n == 0 else f"fail ({n} check{'s' if n > 1 else ''})"
    return {"skipped": "not checked", "missing": "—"}.get(cell.status, cell.status)
