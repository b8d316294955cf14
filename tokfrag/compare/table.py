"""The gate's verdict: one Row per combination, and the Comparison's table and exit code."""

from __future__ import annotations

from dataclasses import dataclass

from ..results import ResultsFile
from ..units import human
from .rules import ACCURACY_FLOOR, ALPHA, DEFAULT_ACCURACY_TOL, DEFAULT_FACTOR, ERROR_STATUSES, ORDER

EXIT_OK, EXIT_REGRESSED, EXIT_ERROR = 0, 1, 2
ABSENT = "absent"  # the value shown for a side whose results lack the combination


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


@dataclass
class Comparison:
    base: ResultsFile
    head: ResultsFile
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
                f"accuracy: seeds paired (95% t interval, floor {ACCURACY_FLOOR:g} pt) or else tolerance "
                f"{self.accuracy_tol:g} pt, U test alpha {self.alpha:g}", ""]
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
