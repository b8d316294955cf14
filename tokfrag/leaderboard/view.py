"""The page's view model: what opens the page (the answer per dataset), rankings per machine, the
best of each column, and the short verdict rows. Grouping and best-picking live here; ``render``
only turns these into HTML.

``summary``: per dataset, two small grids. Accuracy: token − fragment (points, paired by seed, with
its 95% interval and seeds), one line per machine x framework (x device where several), one
column per backbone. Speed: TensorFlow's training step ÷ PyTorch's (asv's samples, 95% interval;
the throughput ratio without one), one line per machine x representation. Each cell carries the
verdict's tone (``a``: the first side better, ``b``: the second, ``none``: not separated, ``na``:
no interval, noisy or excluded) and the id of its line in the detail tables (``duel_id``).
Rows of a non-default mode, precision or worker count stay in the detail tables only.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from dataclasses import dataclass, field

from .. import stats
from ..backbones import DEFAULT, sort_key
from ..names import PipelineName
from .board import Duel, Row
from .columns import COLUMNS
from .defaults import PARAM_DEFAULTS
from .pairs import COMPARISONS, FRAMEWORK_NAMES, TENSORFLOW_VS_PYTORCH, TOKEN_VS_FRAGMENT, Comparison
from .verdicts import number, seeds_text, signed

SUMMARY_FIXED = {k: v for k, v in PARAM_DEFAULTS.items() if k != "backbone"}  # mode, precision, workers


def duel_id(comp: Comparison, d: Duel) -> str:
    """A stable HTML id for a pair's line in its detail table."""
    key = repr((comp.key, d.a.machine, sorted(d.a.params.items()), sorted(d.b.params.items())))
    return "d-" + hashlib.sha1(key.encode()).hexdigest()[:12]


def machine_order(rows: list[Row]) -> list[str]:
    """Machines with the most seeds first (their intervals say the most), then by name."""
    seeds: dict[str, int] = defaultdict(int)
    for r in rows:
        seeds[r.machine] = max(seeds[r.machine], r.cells["accuracy"].n)
    return sorted(seeds, key=lambda m: (-seeds[m], m))


def ranked(rows: list[Row]) -> list[tuple[int, Row]]:
    """(rank within its machine, row): machines in ``machine_order``, each ranked by its own rows' order
    (``Board.datasets``: accuracy, then throughput). Rows of different machines are never ranked together."""
    order = {m: i for i, m in enumerate(machine_order(rows))}
    out, seen = [], defaultdict(int)
    for row in sorted(rows, key=lambda r: order[r.machine]):  # stable: keeps the accuracy ranking
        seen[row.machine] += 1
        out.append((seen[row.machine], row))
    return out


def best_values(rows: list[Row]) -> dict[tuple[str, str], float]:
    """(machine, column key) -> the best usable value of a higher-is-better column on that machine."""
    best: dict[tuple[str, str], float] = {}
    for r in rows:
        for c in COLUMNS:
            v = r.value(c.key)
            if c.higher_is_better and v is not None and v > best.get((r.machine, c.key), -float("inf")):
                best[(r.machine, c.key)] = v
    return best


@dataclass
class SummaryCell:
    text: str
    note: str  # "3 seeds", "1 seed: no interval", "noisy", "excluded"
    tone: str  # a, b, none, na
    title: str  # the whole description (hover)
    target: str  # duel_id of the detail line


@dataclass
class SummaryLine:
    label: str
    filters: dict[str, str]  # data-* attributes of the line (machine, device, framework)
    cells: list[SummaryCell | None]


@dataclass
class SummaryTable:
    kind: str  # accuracy | speed
    title: str
    legend: tuple[str, str, str]  # what tones a, b and none mean
    columns: list[str]  # backbones
    lines: list[SummaryLine] = field(default_factory=list)


def _accuracy_cell(comp: Comparison, d: Duel) -> SummaryCell | None:
    iv = d.accuracy
    if d.accuracy_diff is None:
        reason = d.a.cells["accuracy"].excluded or d.b.cells["accuracy"].excluded
        return SummaryCell("excluded", "", "na", reason, duel_id(comp, d)) if reason else None
    verdict = d.accuracy_verdict
    tone = {"token better": "a", "fragment better": "b", stats.NO_CLEAR: "none"}.get(verdict, "na")
    if iv is None or not iv.has_interval:
        n = 0 if iv is None else iv.n
        text = signed(d.accuracy_diff)
        note = "1 seed" if n == 1 else verdict
    else:
        text = f"{signed(iv.estimate)} [{signed(iv.lo)}, {signed(iv.hi)}]"
        note = seeds_text([iv.n]) + " · " + {"a": "token", "b": "fragment", "none": "n.s."}.get(tone, verdict)
    seeds = seeds_text([iv.n]) if iv is not None else "no seed in common"
    title = f"token − fragment, {comp.context(d.a)} on {d.a.machine} ({d.a.device}): {text} pts, {seeds}; {verdict}"
    return SummaryCell(text, note, tone, title, duel_id(comp, d))


def _speed_cell(comp: Comparison, d: Duel) -> SummaryCell | None:
    reason = next((d.a.cells[k].excluded or d.b.cells[k].excluded for k in ("train_step", "throughput")
                   if d.a.cells[k].excluded or d.b.cells[k].excluded), "")
    if d.time_ratio is None:
        return SummaryCell("excluded", "", "na", reason, duel_id(comp, d)) if reason else None
    verdict, iv = d.speed_verdict, d.step
    tone = {"TensorFlow faster": "a", "PyTorch faster": "b", stats.NO_CLEAR: "none"}.get(verdict, "na")
    if iv is None:
        text, note = f"{number(d.time_ratio)}×", "throughput: no interval"
    else:
        text = f"{number(iv.estimate)}× [{number(iv.lo)}, {number(iv.hi)}]"
        words = {"a": "TF faster", "b": "PT faster", "none": "n.s."}
        note = "noisy: re-measure" if iv.noisy else words.get(tone, verdict)
    samples = f"{len(d.a.cells['train_step'].samples)} vs {len(d.b.cells['train_step'].samples)} asv samples"
    title = (f"TensorFlow's step time ÷ PyTorch's, {comp.context(d.a)} on {d.a.machine} ({d.a.device}): "
             f"{text}, {samples if iv is not None else note}; {verdict}")
    return SummaryCell(text, note, tone, title, duel_id(comp, d))


def _in_summary(row: Row) -> bool:
    return all(row.params.get(k, v) == v for k, v in SUMMARY_FIXED.items())


def summary(rows: list[Row]) -> list[SummaryTable]:
    """The two grids of one dataset (a grid with no cell is left out)."""
    rows = [r for r in rows if _in_summary(r)]
    backbones = sorted({r.params.get("backbone", DEFAULT) for r in rows if r.measured}, key=sort_key)
    machines = machine_order([r for r in rows if r.measured])
    devices = sorted({r.device for r in rows if r.measured})
    several = len(machines) > 1
    out = []
    specs = ((TOKEN_VS_FRAGMENT, "accuracy", "Accuracy: token − fragment, points [95% CI]",
              ("token better", "fragment better", "not separated"), _accuracy_cell,
              lambda d: FRAMEWORK_NAMES.get(d.a.params.get("framework", ""), d.a.params.get("framework", ""))),
             (TENSORFLOW_VS_PYTORCH, "speed", "Training step: TensorFlow ÷ PyTorch [95% CI]",
              ("TensorFlow faster", "PyTorch faster", "not separated"), _speed_cell,
              lambda d: PipelineName.parse(d.a.pipeline).representation))
    for comp, kind, title, legend, make, side in specs:
        table = SummaryTable(kind, title, legend, backbones)
        grid: dict[tuple, dict[str, SummaryCell]] = defaultdict(dict)
        for d in comp.pairs(rows):
            cell = make(comp, d)
            if cell is not None:
                grid[(d.a.machine, d.a.device, side(d), PipelineName.parse(d.a.pipeline).variant)][
                    d.a.params.get("backbone", DEFAULT)] = cell
        for (machine, device, what, variant) in sorted(grid, key=lambda k: (machines.index(k[0]), k[1:])):
            parts = ([machine] if several else []) + ([device] if len(devices) > 1 else []) + \
                    [what + (f" @{variant}" if variant else "")]
            filters = {"machine": machine, "device": device}
            if kind == "accuracy":
                filters["framework"] = next(k for k, v in FRAMEWORK_NAMES.items() if v == what) \
                    if what in FRAMEWORK_NAMES.values() else what
            cells = grid[(machine, device, what, variant)]
            table.lines.append(SummaryLine(" · ".join(parts), filters, [cells.get(b) for b in backbones]))
        if table.lines:
            out.append(table)
    return out


# --- the short verdict rows --------------------------------------------------------------

@dataclass
class VerdictRow:
    machine: str
    device: str
    seeds: str
    topic: str  # "Accuracy, token vs fragment"
    text: str  # "fragment better in 7 of 8 (+0.93 to +3.43 pts) · not separated in 1"


def _range(values: list[float], fmt, unit: str) -> str:
    lo, hi = min(values), max(values)
    return f"{fmt(lo)}{unit}" if fmt(lo) == fmt(hi) else f"{fmt(lo)} to {fmt(hi)}{unit}"


def _tally(duels: list[Duel], verdict, wins: list[tuple[str, object]], others: list[tuple[str, int, str]]) -> str:
    """``"<side's verdict> in k of n (<why>)"`` for each ``(verdict, why(won))`` of ``wins`` that some duel
    reached, then ``"<what> in k of n<after>"`` for each ``(what, k, after)`` of ``others`` with k > 0."""
    n, parts = len(duels), []
    for name, why in wins:
        won = [d for d in duels if verdict(d) == name]
        if won:
            parts.append(f"{name} in {len(won)} of {n} ({why(won)})")
    for what, count, after in others:
        if count:
            parts.append(f"{what} in {count} of {n}{after}")
    return " · ".join(parts)


def _accuracy_row(comp: Comparison, duels: list[Duel]) -> str:
    duels = [d for d in duels if d.accuracy is not None]
    if not duels:
        return ""
    a, b = duels[0].names

    def by(sign):
        return lambda won: (f"by {_range([sign * d.accuracy.estimate for d in won], signed, ' pts')}, "
                            "each 95% CI excludes 0")
    return _tally(duels, lambda d: d.accuracy_verdict, [(f"{a} better", by(1)), (f"{b} better", by(-1))],
                  [("not separated", sum(d.accuracy_verdict == stats.NO_CLEAR for d in duels), ""),
                   ("no interval (1 seed)", sum(not d.accuracy.has_interval for d in duels), "")])


def _speed_row(comp: Comparison, duels: list[Duel]) -> str:
    timed = [d for d in duels if d.step is not None]
    if not timed:
        return ""
    a, b = timed[0].names

    def ratio(faster, slower, a_faster):
        def why(won):
            ratios = [1 / d.step.estimate if a_faster else d.step.estimate for d in won]
            return f"{slower}'s step {_range(ratios, number, '×')} {faster}'s, each 95% CI excludes 1"
        return why
    return _tally(timed, lambda d: d.speed_verdict, [(f"{a} faster", ratio(a, b, True)),
                                                     (f"{b} faster", ratio(b, a, False))],
                  [("not separated", sum(d.speed_verdict == stats.NO_CLEAR for d in timed), ""),
                   ("noisy", sum(d.speed_verdict == stats.NOISY_VERDICT for d in timed), " (re-measure)")])


def verdict_rows(rows: list[Row]) -> list[VerdictRow]:
    """Per machine and device, one short row per comparison and metric (never a paragraph)."""
    groups: dict[tuple[str, str], dict[str, list[Duel]]] = defaultdict(lambda: defaultdict(list))
    for comp in COMPARISONS:
        for d in comp.pairs(rows):
            groups[(d.a.machine, d.a.device)][comp.key].append(d)
    order = {m: i for i, m in enumerate(machine_order(rows))}
    out = []
    for (machine, device), by_comp in sorted(groups.items(), key=lambda kv: (order.get(kv[0][0], 0), kv[0])):
        seeds = seeds_text(d.accuracy.n for ds in by_comp.values() for d in ds if d.accuracy is not None)
        for comp in COMPARISONS:
            duels = by_comp.get(comp.key, [])
            a, b = comp.short if comp is not TOKEN_VS_FRAGMENT else ("token", "fragment")
            for topic, text in ((f"Accuracy, {a} vs {b}", _accuracy_row(comp, duels)),
                                (f"Step time, {a} vs {b}", _speed_row(comp, duels))):
                if text:
                    out.append(VerdictRow(machine, device, seeds, topic, text))
    return out


@dataclass
class BackboneLine:
    """One line of the backbone table: a machine, framework, device and representation measured under two
    backbones or more; ``best`` has the highest mean accuracy, ``lead`` its paired lead over ``runner``."""

    machine: str
    framework: str
    first: Row  # the line's first row: its pipeline, device and filter attributes
    by_backbone: dict[str, Row]
    best: str
    runner: str
    lead: stats.Interval | None
    seeds: int  # the fewer seeds of best and runner (where the lead has no interval)


def backbone_lines(rows: list[Row]) -> tuple[list[str], list[BackboneLine]]:
    """The backbones measured (the default first) and the lines of the backbone table; no lines unless
    two backbones were measured."""
    backbones = sorted({r.params["backbone"] for r in rows if "backbone" in r.params}, key=sort_key)
    if len(backbones) < 2:
        return backbones, []
    groups: dict[tuple, dict[str, Row]] = {}
    for r in rows:
        if "backbone" in r.params:
            name = PipelineName.parse(r.pipeline)
            others = tuple((k, v) for k, v in r.params.items() if k not in ("pipeline", "backbone", "framework"))
            key = (r.machine, r.params.get("framework", ""), name.representation, name.variant, others)
            groups.setdefault(key, {})[r.params["backbone"]] = r
    lines = []
    for (machine, fw, *_), by_backbone in sorted(groups.items()):
        measured = {b: r.value("accuracy") for b, r in by_backbone.items() if r.value("accuracy") is not None}
        if len(measured) < 2:
            continue
        best = max(measured, key=measured.get)
        runner = max((b for b in measured if b != best), key=measured.get)
        a, b = by_backbone[best].cells["accuracy"], by_backbone[runner].cells["accuracy"]
        lines.append(BackboneLine(machine, fw, next(iter(by_backbone.values())), by_backbone, best, runner,
                                  stats.paired(a.values, b.values), min(a.n, b.n)))
    return backbones, lines
