"""The leaderboard's data: rows of cells, machines, head-to-head duels and cost-scaling points.

What ``render`` and ``export`` read; ``model.build`` makes it from the results.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, field

SCALING_DEVICE = "cpu"  # bench_perf.Scaling runs on the CPU only


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

    def backbones(self) -> list[str]:
        """The backbones the rows measured, the default (transformer) first."""
        found = {row.params["backbone"] for row in self.rows if "backbone" in row.params}
        return sorted(found, key=lambda b: (b != "transformer", b))


def parity_text(cell: Cell) -> str:
    """The parity badge: 0 failed checks -> pass, N -> fail (N checks), NaN -> not checked."""
    if cell.status == "ok":
        n = math.ceil(cell.mean)
        return "pass" if n == 0 else f"fail ({n} check{'s' if n > 1 else ''})"
    return {"skipped": "not checked", "missing": "—"}.get(cell.status, cell.status)
