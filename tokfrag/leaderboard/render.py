"""The leaderboard as one self-contained HTML page.

Everything that comes from a results file passes through ``_e`` (HTML-escaped, quotes
included) before it reaches the page. The page loads nothing: its style sheet and script are
inline and allowed by their sha256 in a Content-Security-Policy that forbids everything else.

The page opens with the answer (``view.summary``: token − fragment and TensorFlow ÷ PyTorch per
dataset, coloured by verdict, each cell linked to its pair). Each dataset's section follows: its
verdicts as short rows (``view.verdict_rows``), the table ranked within each machine
(``view.ranked``), the plot and the head-to-head tables with their intervals. Grouping and
best-picking are ``view``'s; this module only writes HTML. Rows that measured nothing (every metric
skipped, failed or missing: a GPU on a machine without one) come last and are hidden until the
one "show N unmeasured combinations" box is ticked; timings whose samples spread more than
``stats.NOISY`` are flagged noisy. The statistical methods are named once, in the footer.
"""

from __future__ import annotations

import base64
import hashlib
import os
import re
from datetime import datetime, timezone
from html import escape
from pathlib import Path

from .. import stats
from ..names import PipelineName
from . import scale_view, svg, view
from .assets import CSS, JS
from .board import Board, Cell, Duel, Machine, Row, ScalingPoint, parity_text, seed_order
from .columns import (
    COLUMNS,
    PARITY,
    PEAK,
    SCALING_MEMORY,
    SCALING_STEP,
    SCALING_UNITS,
    WORKER_COMMUNICATION,
    WORKER_EFFICIENCY,
    WORKER_THROUGHPUT,
    Column,
    count,
    memory,
)
from .defaults import other_workers
from .pairs import COMPARISONS, FRAMEWORK_NAMES, Comparison
from .verdicts import number, signed
from .view import SummaryTable, duel_id

FILENAME = "leaderboard.html"
ACCURACY = next(c for c in COLUMNS if c.key == "accuracy")
UNMEASURED_HINT = ("combinations where every metric was skipped, failed or missing "
                   "(e.g. the GPU rows of a machine without a GPU)")
LEGEND = ('<span class="legend"><span class="key token">■</span> token <span class="key fragment">■</span> fragment '
          '· <span class="key">●</span> PyTorch <span class="key">■</span> TensorFlow '
          '· <span class="key">┼</span> ± sd over the seeds</span>')
TONES = ("a", "b", "none")
SCALING_CAPTION = ("Time per training step against sequence length (MNIST windows of 14, 7, 4, 2 px). "
                   "Attention grows with the square of the length, the fragment projection with the window size.")


def _e(s) -> str:
    return escape(str(s), quote=True)


def _sha256(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode()).digest()).decode() + "'"


def csp() -> str:
    """Nothing may load; only this page's own inline style sheet and script may run."""
    return (f"default-src 'none'; style-src {_sha256(CSS)}; script-src {_sha256(JS)}; img-src data:; "
            "base-uri 'none'; form-action 'none'")


def _filters(row, framework: bool = True) -> str:
    """data-* attributes the filters and the search box match (assets.JS: any element carrying one)."""
    out = f'data-device="{_e(row.device)}" data-machine="{_e(row.machine)}"'
    params = getattr(row, "params", None) or {"framework": getattr(row, "framework", "")}
    for key in ("backbone",) + (("framework",) if framework else ()):
        if params.get(key):
            out += f' data-{key}="{_e(params[key])}"'
    return out + (f' data-pipeline="{_e(row.pipeline)}"' if hasattr(row, "pipeline") else "")


def _th(label: str, hint: str = "", numeric: bool = False, first: str = "asc") -> str:
    title = f' title="{_e(hint)}"' if hint else ""
    kind = "num" if numeric else "text"
    return f'<th data-type="{kind}" data-first="{first}"{title}><button type="button">{_e(label)}</button></th>'


def _name(text: str) -> str:
    """A cell for a name that may be long (cut with an ellipsis by the style sheet; whole in the tooltip)."""
    return f'<td class="name" title="{_e(text)}">{_e(text)}</td>'


def _percent(v: float) -> str:
    return f"{100 * v:.0f}%"


def _noisy_text(cell: Cell) -> str:
    return (f"spread {_percent(cell.spread)} > {_percent(stats.NOISY)}: re-measure; not used for verdicts"
            if cell.noisy else "")


def _ok_title(column: Column, cell: Cell) -> str:
    """The tooltip of an ok cell: each seed's value and the 95% interval of the mean; the spread of
    asv's samples for a timing."""
    parts = [column.unit]
    if cell.n > 1:
        seeds = ", ".join(f"{k}: {column.fmt(cell.values[k])}" for k in sorted(cell.values, key=seed_order))
        parts.append(f"mean ± sd of {cell.n} seeds ({seeds})")
        s = cell.summary
        if s is not None and s.lo is not None:
            parts.append(f"95% CI of the mean [{column.fmt(s.lo)}, {column.fmt(s.hi)}] (Student t)")
    elif column is ACCURACY:
        parts.append(stats.ONE_SEED)
    if cell.samples:
        spread = cell.spread
        parts.append(_noisy_text(cell) or f"{len(cell.samples)} asv samples"
                     + ("" if spread is None else f", spread {_percent(spread)} (interquartile range / median)"))
    return "; ".join(parts)


def _metric(column: Column, cell: Cell, best: bool) -> str:
    classes = "num st-" + cell.status.replace(" ", "-") + (" best" if best else "")
    if cell.status == "ok" and cell.excluded:
        title = f"excluded: {cell.excluded} (kept off rankings, plots and verdicts; still in the export)"
        text = f'{_e(column.fmt(cell.mean))} <span class="flag">excluded</span>'
        inner = f'<a href="{_e(cell.link)}">{text}</a>' if cell.link else text
        return f'<td class="num excluded" data-v="" title="{_e(title)}">{inner}</td>'
    if cell.status == "ok":
        text = _e(column.fmt(cell.mean))
        if column is ACCURACY and cell.n == 1:
            text += ' <span class="sd">1 seed</span>'
        elif cell.sd is not None:
            text += f' <span class="sd">± {_e(column.fmt(cell.sd))}</span>'
        if cell.noisy:
            classes += " noisy"
            text += ' <span class="flag">noisy</span>'
        title = _ok_title(column, cell)
        data = repr(cell.mean)
    else:
        text, title, data = _e(cell.status), "", ""
    inner = f'<a href="{_e(cell.link)}">{text}</a>' if cell.link else text
    title_attr = f' title="{_e(title)}"' if title else ""
    return f'<td class="{classes}" data-v="{data}"{title_attr}>{inner}</td>'


def _parity(cell: Cell) -> str:
    text = parity_text(cell)
    css = {"pass": "par-pass", "fail": "par-fail"}.get(text.split(" ")[0], "st-" + cell.status.replace(" ", "-"))
    data = f"{cell.mean:g}" if cell.status == "ok" else ""
    inner = f'<a href="{_e(cell.link)}">{_e(text)}</a>' if cell.link else _e(text)
    return f'<td class="num {css}" data-v="{data}">{inner}</td>'


def _representation(pipeline: str) -> str:
    name = PipelineName.parse(pipeline)
    representation, variant = name.representation, name.variant
    shown = representation + (f"@{variant}" if variant else "")
    return f'<span class="rep-{_e(representation)}" title="{_e(pipeline)}">{_e(shown)}</span>'


def _board_table(rows: list[Row], extra: list[str], table_id: str) -> str:
    best = view.best_values(rows)
    head = [_th("#", "rank by accuracy among the rows of its machine (machines are not ranked together)",
                numeric=True), _th("Pipeline"), _th("Framework"), _th("Device")]
    head += [_th(p) for p in extra] + [_th("Machine")]
    head += [_th(c.label, f"{c.hint} ({c.unit})", True, "desc" if c.higher_is_better else "asc") for c in COLUMNS]
    head += [_th("Params", "trainable parameters, from the pipeline's spec", True),
             _th(PARITY.label, PARITY.hint + " (pass: 0 failed checks)", True)]
    body = []
    for rank, row in view.ranked(rows):
        fw = row.params.get("framework", "")
        cells = [f'<td class="num" data-v="{rank}">{rank}</td>', f"<td>{_representation(row.pipeline)}</td>",
                 f"<td>{_e(FRAMEWORK_NAMES.get(fw, fw))}</td>", f"<td>{_e(row.device)}</td>"]
        cells += [f"<td>{_e(row.params.get(p, ''))}</td>" for p in extra] + [_name(row.machine)]
        cells += [_metric(c, row.cells[c.key], row.value(c.key) is not None
                          and row.value(c.key) == best.get((row.machine, c.key))) for c in COLUMNS]
        n = row.param_count
        cells.append(f'<td class="num" data-v="{n}">{count(n)}</td>' if n is not None
                     else '<td class="num st-missing" data-v="">—</td>')
        cells.append(_parity(row.cells[PARITY.key]))
        body.append(f"<tr {_filters(row)}{_unmeasured(row)}>{''.join(cells)}</tr>")
    return (f'<div class="scroll"><table class="board" id="{_e(table_id)}"><thead><tr>{"".join(head)}</tr></thead>'
            f'<tbody>{"".join(body)}</tbody></table></div>')


def _unmeasured(row) -> str:
    """The class that hides a row that measured nothing until the page's one box is ticked."""
    return "" if row.measured else ' class="unmeasured"'


def _interval(lo: float | None, hi: float | None, fmt=number) -> str:
    return "" if lo is None or hi is None else f' <span class="sd">[{_e(fmt(lo))}, {_e(fmt(hi))}]</span>'


def _verdict(text: str) -> str:
    decided = text.endswith((" better", " faster"))
    return f'<td class="verdict{" decided" if decided else ""}">{_e(text)}</td>'


def _accuracy_diff(d: Duel) -> str:
    """Δ accuracy (a − b, points) paired by seed, with its 95% interval; the seeds in the tooltip."""
    iv = d.accuracy
    if iv is None:
        diff = d.accuracy_diff
        return ('<td class="num" data-v="">—</td>' if diff is None else
                f'<td class="num" data-v="{diff!r}" title="means, no seed in common">{_e(signed(diff))} pts</td>')
    a, b = d.a.cells["accuracy"].values, d.b.cells["accuracy"].values
    seeds = sorted(set(a) & set(b), key=seed_order)
    title = "per seed: " + ", ".join(f"{k}: {signed(a[k] - b[k])}" for k in seeds)
    return (f'<td class="num" data-v="{iv.estimate!r}" title="{_e(title)}">{_e(signed(iv.estimate))} pts'
            f"{_interval(iv.lo, iv.hi, signed)}</td>")


def _time_ratio(d: Duel) -> str:
    """Step time a ÷ b from asv's samples with its 95% interval; the throughput ratio without one."""
    iv, ratio = d.step, d.time_ratio
    if ratio is None:
        return '<td class="num" data-v="">—</td>'
    if iv is None:
        return (f'<td class="num" data-v="{ratio!r}" title="time per sample from the training throughputs: '
                f'asv stored no step samples for one row or both">{_e(number(ratio))}× '
                '<span class="sd">(throughput)</span></td>')
    a, b = d.a.cells["train_step"], d.b.cells["train_step"]
    spreads = " vs ".join("?" if c.spread is None else _percent(c.spread) for c in (a, b))
    title = f"{len(a.samples)} vs {len(b.samples)} asv samples, spread {spreads}"
    noisy = " noisy" if iv.noisy else ""
    flag = ' <span class="flag">noisy</span>' if iv.noisy else ""
    return (f'<td class="num{noisy}" data-v="{ratio!r}" title="{_e(title)}">{_e(number(ratio))}×'
            f"{_interval(iv.lo, iv.hi)}{flag}</td>")


def _duel_table(comp: Comparison, duels: list[Duel], table_id: str) -> str:
    """One line per pair where both sides have an accuracy or a speed: each difference with its
    interval and the verdict in words."""
    duels = [d for d in duels if d.accuracy_diff is not None or d.time_ratio is not None]
    if not duels:
        return f"<div><h3>{_e(comp.title)}</h3><p class=\"note\">No pair measured on both sides yet.</p></div>"
    a, b = comp.short
    head = "".join((
        _th(comp.context_label), _th("Device"), _th("Machine"),
        _th(f"Δ accuracy ({a} − {b})", "mean of the per-seed differences (points) [95% interval]", True, "desc"),
        _th("Seeds", "seeds both rows ran: the pairs of the difference", True, "desc"),
        _th("Accuracy", "verdict: a side is better only when the whole interval is on its side"),
        _th(f"Step time ({a} ÷ {b})", f"above 1: {a}'s training step is slower [95% interval]", True),
        _th("Speed", "verdict from asv's step samples; noisy samples decide nothing")))
    body = []
    for d in duels:
        n = "" if d.accuracy is None else d.accuracy.n
        body.append(f'<tr id="{duel_id(comp, d)}" {_filters(d.a, comp.key == "token_vs_fragment")}>'
                    f"<td>{_e(comp.context(d.a))}</td><td>{_e(d.a.device)}</td>"
                    f'{_name(d.a.machine)}{_accuracy_diff(d)}<td class="num" data-v="{n}">{n}</td>'
                    f"{_verdict(d.accuracy_verdict)}{_time_ratio(d)}{_verdict(d.speed_verdict)}</tr>")
    return (f'<div><h3>{_e(comp.title)}</h3><div class="scroll"><table class="duel" id="{_e(table_id)}">'
            f'<thead><tr>{head}</tr></thead><tbody>{"".join(body)}</tbody></table></div></div>')


def _verdicts(name: str, rows: list[Row]) -> str:
    """The section's verdicts: one short row per machine, device, comparison and metric (filtered with them)."""
    lines = "".join(f'<tr data-device="{_e(v.device)}" data-machine="{_e(v.machine)}"><th>{_e(v.machine)}</th>'
                    f"<td>{_e(v.device)}</td><td>{_e(v.seeds)}</td><td>{_e(v.topic)}</td><td>{_e(v.text)}</td></tr>"
                    for v in view.verdict_rows(rows))
    return (f'<table class="verdicts"><caption>Verdicts (each pair in the tables below, with its interval)'
            f"</caption><tbody>{lines}</tbody></table>" if lines else "")


def _summary_table(t: SummaryTable, dataset: str) -> str:
    """One grid of the answer: a line per machine x framework (or representation), a column per backbone."""
    head = f'<th scope="col">{_e(t.title)}</th>' + "".join(
        f'<th scope="col" data-backbone="{_e(b)}">{_e(b)}</th>' for b in t.columns)
    body = []
    for line in t.lines:
        attrs = " ".join(f'data-{k}="{_e(v)}"' for k, v in line.filters.items())
        cells = []
        for b, c in zip(t.columns, line.cells):
            if c is None:
                cells.append(f'<td class="v-empty" data-backbone="{_e(b)}">—</td>')
                continue
            note = f' <span class="sd">{_e(c.note)}</span>' if c.note else ""
            cells.append(f'<td class="v-{c.tone}" data-backbone="{_e(b)}" title="{_e(c.title)}">'
                         f'<a href="#{c.target}">{_e(c.text)}{note}</a></td>')
        body.append(f'<tr {attrs}><th scope="row">{_e(line.label)}</th>{"".join(cells)}</tr>')
    keys = "".join(f'<span class="v-{tone} swatch">{_e(word)}</span>' for tone, word in zip(TONES, t.legend))
    return (f'<table class="summary sum-{t.kind}" id="{_e(dataset)}-sum-{t.kind}"><thead><tr>{head}</tr></thead>'
            f'<tbody>{"".join(body)}</tbody></table><p class="keys">{keys}'
            '<span class="v-na swatch">no interval, noisy or excluded</span></p>')


def _answer(board: Board) -> str:
    """What opens the page: per dataset, token − fragment in accuracy and TensorFlow ÷ PyTorch in step time."""
    blocks = []
    for name, rows in board.datasets().items():
        tables = view.summary([r for r in rows if not other_workers(r)])
        if tables:
            blocks.append(f'<div class="answer-ds" data-dataset-summary="{_e(name)}"><h3><a href="#ds-{_e(name)}">'
                          f'{_e(name)}</a></h3>{"".join(_summary_table(t, name) for t in tables)}</div>')
    if not blocks:
        return ""
    return ('<section id="answer"><h2>The answer</h2><p class="note">Per dataset: token − fragment in test accuracy '
            "(points; paired by seed, 95% t interval; seeds in each cell) and TensorFlow's training step ÷ "
            "PyTorch's (asv's samples, 95% interval; above 1: TensorFlow is slower). Coloured where the whole "
            "interval is on one side; grey: not separated. Each cell links to its pair in the dataset's "
            f'tables.</p><div class="answers">{"".join(blocks)}</div></section>')


def _data_note(data: dict[str, str]) -> str:
    """Which data the section's results were measured on: its fingerprint per machine (``tokfrag bench``
    records it); a warning when the machines measured different data under this name."""
    if not data:
        return ""
    shown = "; ".join(f"{fp[:12]} ({machine})" for machine, fp in sorted(data.items()))
    differ = (" <b>Different data under one name: these machines' results are not comparable.</b>"
              if len(set(data.values())) > 1 else "")
    return f'<p class="note data">Data sha256: {_e(shown)}.{differ}</p>'


def _dataset_section(name: str, rows: list[Row], extra: list[str], multi_machine: bool,
                     data: dict[str, str] | None = None) -> str:
    every = rows
    rows = [r for r in rows if not other_workers(r)]  # the board, plot and verdicts are one worker's
    extra = [p for p in extra if p != "workers"]
    plot = svg.plot(rows, multi_machine)
    figure = (f"<figure>{plot}<figcaption>{LEGEND} Test accuracy against training time per sample "
              "(1 / training throughput); bars: ± one sd over the seeds. Hover or focus a point (Tab) for "
              "its description; the filters above choose the points. Excluded values are not plotted."
              "</figcaption></figure>" if plot else
              '<p class="note">No run has both an accuracy and a throughput yet: nothing to plot.</p>')
    backbones = _backbone_table(rows)
    duels = "".join(_duel_table(comp, comp.pairs(rows), f"{name}-{comp.key}") for comp in COMPARISONS)
    mixed = ('<p class="note">Ranked within each machine (#): rows of different machines are never ranked '
             "together; the seeds of each mean are in its cell.</p>" if multi_machine else "")
    return (f'<section data-dataset="{_e(name)}" id="ds-{_e(name)}"><h2>{_e(name)} '
            f'<small class="note count"></small></h2>'
            f'{_data_note(data or {})}{_verdicts(name, rows)}{mixed}{_board_table(rows, extra, f"{name}-board")}'
            f'<div class="duo">{figure}<div>{duels}</div></div>'
            f"{backbones}{_workers_table(every)}</section>")


def _workers_table(rows: list[Row]) -> str:
    """Data-parallel scaling (``bench_workers``): per pipeline, framework, device and machine, the
    group's throughput with each worker count, and with N > 1 its scaling efficiency and the share
    of a step spent communicating. Empty unless some line measured two worker counts."""
    counts = sorted({int(r.params.get("workers", "1")) for r in rows
                     if r.cells[WORKER_THROUGHPUT.key].status == "ok"})
    if len(counts) < 2:
        return ""
    groups: dict[tuple, dict[int, Row]] = {}
    for r in rows:
        others = tuple((k, v) for k, v in r.params.items() if k not in ("pipeline", "framework", "workers"))
        groups.setdefault((r.pipeline, r.params.get("framework", ""), r.machine, others), {})[
            int(r.params.get("workers", "1"))] = r
    head = [_th("Pipeline"), _th("Framework"), _th("Device"), _th("Machine")]
    for n in counts:
        head.append(_th(f"{n} worker{'s' if n > 1 else ''}: samples/s", WORKER_THROUGHPUT.hint, True, "desc"))
        if n > 1:
            head += [_th(f"{n} workers: efficiency %", WORKER_EFFICIENCY.hint, True, "desc"),
                     _th(f"{n} workers: comm. %", WORKER_COMMUNICATION.hint, True, "asc")]
    body = []
    for (pipeline, fw, machine, _), by_n in sorted(groups.items()):
        if sum(by_n[n].cells[WORKER_THROUGHPUT.key].status == "ok" for n in by_n) < 2:
            continue
        first = next(iter(by_n.values()))
        cells = [f"<td>{_representation(pipeline)}</td>", f"<td>{_e(FRAMEWORK_NAMES.get(fw, fw))}</td>",
                 f"<td>{_e(first.device)}</td>", _name(machine)]
        for n in counts:
            row = by_n.get(n)
            columns = (WORKER_THROUGHPUT,) + ((WORKER_EFFICIENCY, WORKER_COMMUNICATION) if n > 1 else ())
            cells += [_metric(c, row.cells[c.key], False) if row is not None
                      else '<td class="num st-missing" data-v="">missing</td>' for c in columns]
        body.append(f"<tr {_filters(first)}>{''.join(cells)}</tr>")
    if not body:
        return ""
    return (f'<div><h3>Workers: data-parallel scaling</h3><div class="scroll"><table class="workers">'
            f'<thead><tr>{"".join(head)}</tr></thead><tbody>{"".join(body)}</tbody></table></div>'
            '<p class="note">PyTorch DistributedDataParallel and TensorFlow MultiWorkerMirroredStrategy, one '
            "process per worker on one machine, each with cores / workers threads and a shard of every "
            "batch (the same global batch as one worker); steps timed after warm-up, medians of 3 runs of "
            "20 steps, one run each (no interval). Efficiency: throughput with N / (N x throughput with 1); "
            "comm.: 1 - the shard's step alone / the group's step.</p></div>")


def _backbone_table(rows: list[Row]) -> str:
    """Test accuracy of each representation under each backbone, side by side, the best in bold:
    one line per machine, device, framework and representation that measured two backbones or more
    (``view.backbone_lines``)."""
    backbones, lines = view.backbone_lines(rows)
    if not lines:
        return ""
    acc = next(c for c in COLUMNS if c.key == "accuracy")
    head = [_th("Representation"), _th("Framework"), _th("Device"), _th("Machine")]
    head += [_th(b, f"test accuracy with the {b} backbone (%)", True, "desc") for b in backbones]
    head += [_th("Best backbone")]
    body = []
    for line in lines:
        first, fw = line.first, line.framework
        cells = [f"<td>{_representation(first.pipeline)}</td>", f"<td>{_e(FRAMEWORK_NAMES.get(fw, fw))}</td>",
                 f"<td>{_e(first.device)}</td>", _name(line.machine)]
        cells += [_metric(acc, line.by_backbone[b].cells["accuracy"], b == line.best) if b in line.by_backbone
                  else '<td class="num st-missing" data-v="">missing</td>' for b in backbones]
        cells.append(_best_backbone(line))
        body.append(f"<tr {_filters(first)}>{''.join(cells)}</tr>")
    return (f'<div><h3>Backbones: test accuracy by representation</h3><div class="scroll"><table class="backbones">'
            f'<thead><tr>{"".join(head)}</tr></thead><tbody>{"".join(body)}</tbody></table></div>'
            '<p class="note">Each backbone consumes the same embedded units and ends in the same pooled head; '
            "best: the highest mean accuracy of the line, with its lead over the runner-up paired by seed "
            "(95% t interval); where the interval holds zero the two are not separated.</p></div>")


def _best_backbone(line: view.BackboneLine) -> str:
    """The line's best backbone, with its lead over the runner-up and that lead's interval over the seeds."""
    best, runner, lead = line.best, line.runner, line.lead
    if lead is None or not lead.has_interval:
        n = line.seeds
        return f'<td>{_e(best)} <small>{n} seed{"s" if n != 1 else ""}: no interval</small></td>'
    gap = f"{lead.estimate:+.1f} [{lead.lo:+.1f}, {lead.hi:+.1f}] over {runner}, {lead.n} seeds"
    if lead.lo > 0:
        return f'<td><b>{_e(best)}</b> <small>{_e(gap)}</small></td>'
    return f'<td>{_e(best)} or {_e(runner)} <small>not separated: {_e(gap)}</small></td>'



def _scaling_cell(column: Column, point: ScalingPoint, value: float | None) -> Cell:
    """The point's cell for ``column`` (with its status and link), or one made from its value."""
    cell = point.cells.get(column.key)
    if cell is not None:
        return cell
    return Cell("missing") if value is None else Cell("ok", float(value), n=1)


def _scaling_table(points: list[ScalingPoint]) -> str:
    head = [_th("Framework"), _th("Representation"), _th("Machine"),
            _th("Window (px)", "side of the square window of pixels that makes one unit", True),
            _th(SCALING_UNITS.label, SCALING_UNITS.hint, True),
            _th(SCALING_STEP.label, f"{SCALING_STEP.hint} ({SCALING_STEP.unit})", True),
            _th(SCALING_MEMORY.label, f"{SCALING_MEMORY.hint} ({SCALING_MEMORY.unit})", True)]
    body = []
    for p in sorted(points, key=lambda p: not p.measured):  # stable: measured points first, in their order
        rep = p.representation
        cells = [f"<td>{_e(FRAMEWORK_NAMES.get(p.framework, p.framework))}</td>",
                 f'<td><span class="rep-{_e(rep)}">{_e(rep)}</span></td>', _name(p.machine),
                 f'<td class="num" data-v="{p.window}">{p.window}</td>']
        cells += [_metric(c, _scaling_cell(c, p, v), False) for c, v in ((SCALING_UNITS, p.units),
                                                                           (SCALING_STEP, p.step_seconds),
                                                                           (SCALING_MEMORY, p.peak_memory))]
        body.append(f"<tr {_filters(p)}{_unmeasured(p)}>{''.join(cells)}</tr>")
    return (f'<div class="scroll"><table class="board scaling" id="scaling-board"><thead><tr>{"".join(head)}</tr>'
            f'</thead><tbody>{"".join(body)}</tbody></table></div>')


def _scaling_section(points: list[ScalingPoint]) -> str:
    """Cost against sequence length (bench_perf.Scaling). The table has class ``board`` and the heading
    a ``.count``, like a dataset's section, so the page's filters count its rows too."""
    plot = svg.scaling_plot(points, len({p.machine for p in points}) > 1)
    figure = (f"<figure>{plot}<figcaption>{_e(SCALING_CAPTION)} Orange: token, blue: fragment; "
              "solid line and circle: PyTorch, dashed line and square: TensorFlow.</figcaption></figure>" if plot else
              '<p class="note">No scaling run has both a sequence length and a step time yet: nothing to plot.</p>')
    return (f'<section data-dataset="scaling"><h2>Cost scaling <small class="note count"></small></h2>'
            f'<div class="duo">{_scaling_table(points)}{figure}</div></section>')


def _date(ms: float | None) -> str:
    if ms is None:
        return ""
    try:
        return datetime.fromtimestamp(ms / 1000, timezone.utc).strftime("%Y-%m-%d")
    except (OverflowError, OSError, ValueError):
        return ""


def _earlier(m: Machine) -> str:
    """The older commits whose results fill what the latest did not measure (a partial run)."""
    if not m.earlier:
        return ""
    items = ", ".join(f'<span title="{_e(c)}">{_e(c[:8])} {_e(_date(d))}</span>' for c, d in m.earlier)
    return f'<br><small class="earlier">and, for what it did not run, {items}</small>'


def _machines_table(machines: dict[str, Machine]) -> str:
    head = "".join(_th(n, h) for n, h in (("Machine", ""), ("CPU", ""), ("GPU", ""), ("RAM", ""), ("OS", ""),
                                           ("Python", ""), ("Frameworks", ""), ("Matmul peak", PEAK.hint),
                                           ("Commit", "")))
    body = []
    for m in machines.values():
        f = m.fields
        cpu = f.get("cpu", "") + (f" ({f['num_cpu']} cores)" if f.get("num_cpu") else "")
        ram = f.get("ram", "")
        ram = memory(int(ram)) if re.fullmatch(r"[0-9]{1,20}", ram) else ram  # bytes, as tokfrag bench records
        os_ = " ".join(p for p in (f.get("os", ""), f.get("arch", "")) if p)
        gpu = f.get("gpu", "") + "".join(f", {label} {f[k]}" for k, label in (("gpu_driver", "driver"),
                                                                                  ("cuda", "CUDA")) if f.get(k))
        versions = ", ".join(f"{k} {v}" for k, v in m.versions.items())
        peaks = ", ".join(f"{k} {count(v)}FLOP/s" for k, v in m.peaks.items())
        body.append(f'<tr data-machine="{_e(m.name)}">{_name(m.name)}<td>{_e(cpu or "—")}</td>'
                    f'<td>{_e(gpu or "—")}</td><td>{_e(ram or "—")}</td><td>{_e(os_ or "—")}</td>'
                    f'<td>{_e(m.python or "—")}</td><td>{_e(versions or "not recorded")}</td>'
                    f'<td>{_e(peaks or "—")}</td>'
                    f'<td title="{_e(m.commit)}">{_e(m.commit[:8])} {_e(_date(m.date))}{_earlier(m)}</td></tr>')
    return (f'<div class="scroll"><table class="machines"><thead><tr>{head}</tr></thead><tbody>{"".join(body)}'
            "</tbody></table></div>")


def _checkboxes(name: str, legend: str, values: list[str]) -> str:
    boxes = "".join(f'<label title="{_e(v)}"><input type="checkbox" data-filter="{name}" value="{_e(v)}" checked> '
                    f'<span class="name">{_e(v or "(none)")}</span></label>' for v in values)
    return f"<fieldset><legend>{_e(legend)}</legend>{boxes}</fieldset>"


def _backbone_filter(board: Board) -> str:
    backbones = board.backbones()
    return _checkboxes("backbone", "Backbone", backbones) if len(backbones) > 1 else ""


def _framework_filter(board: Board) -> str:
    found = sorted({r.params["framework"] for r in board.rows if r.params.get("framework")})
    return _checkboxes("framework", "Framework", found) if len(found) > 1 else ""


SEARCH = ('<fieldset><legend><label for="search">Pipeline</label></legend><input type="search" id="search" '
          'placeholder="e.g. video/token or cnn" aria-label="show only pipelines containing this text" '
          'autocomplete="off"></fieldset>')


def _unmeasured_count(board: Board) -> int:
    return sum(not r.measured for r in board.rows) + sum(not p.measured for p in board.scaling)


def _unmeasured_toggle(board: Board) -> str:
    """The page's one control for the rows that measured nothing (none: no control)."""
    n = _unmeasured_count(board)
    if not n:
        return ""
    return (f'<fieldset><legend>Rows</legend><label title="{_e(UNMEASURED_HINT)}">'
            f'<input type="checkbox" id="show-unmeasured"> show {n} unmeasured combination{"s" if n != 1 else ""}'
            "</label></fieldset>")


def _methods() -> str:
    """The statistics behind every interval and verdict, named once."""
    return (f"Intervals and verdicts: accuracy Δ is {_e(stats.METHOD_PAIRED)}; step time is "
            f"{_e(stats.METHOD_RATIO)}. A verdict names a side only when the whole 95% interval lies on its "
            f"side; a timing whose samples spread more than {_percent(stats.NOISY)} (interquartile range / median) "
            "is flagged <i>noisy</i>: re-measure; it decides no verdict.")


def page(board: Board, generated: datetime | None = None) -> str:
    """The whole HTML document."""
    generated = generated or datetime.now(timezone.utc)
    sections = "".join(_dataset_section(name, rows, board.extra_params, len(board.machines) > 1,
                                        board.data.get(name, {}))
                       for name, rows in board.datasets().items())
    if board.scaling:
        sections += _scaling_section(board.scaling)
    sections += scale_view.sections(board)  # the verdicts at every scale (bench_scale's curves)
    n = len(board.machines)
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="{_e(csp())}">
<meta name="referrer" content="no-referrer">
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="icon" href="data:,">
<title>tokfrag leaderboard</title>
<style>{CSS}</style></head>
<body><header><h1>tokfrag leaderboard <small>tokens vs fragments · PyTorch vs TensorFlow ·
{n} machine{"s" if n != 1 else ""}, each result from the latest commit that measured it ·
<a href="index.html">asv graphs</a></small></h1>
<nav class="filters" aria-label="filters (kept in the address: copy it to share this view)">{SEARCH}{_checkboxes(
        "device", "Device", board.devices())}{_checkboxes("machine", "Machine", list(board.machines))}{
        _framework_filter(board)}{_backbone_filter(board)}{_unmeasured_toggle(board)}<a id="share" href="#">link to
this view</a></nav>
</header>
<main>{_answer(board)}{sections}<section><h2>Machines</h2>{_machines_table(board.machines)}</section></main>
<div id="tip" role="tooltip" hidden></div>
<footer>Ranked by test accuracy within each machine; click a column header to sort (the sort and the filters
are kept in the address). Each value links to its graph in asv's pages.
<i>excluded</i>: kept off rankings, plots and verdicts by results/annotations.toml (the reason on hover).
<i>missing</i>: no result; <i>skipped</i>: not run here (NaN: framework or device unavailable);
<i>failed</i>: the benchmark raised (null); <i>not reached</i>: trained, never reached the accuracy target.
{_methods()}
Generated {generated:%Y-%m-%d %H:%M} UTC by tokfrag.</footer>
<script>{JS}</script></body></html>
"""


def write(board: Board, html_dir: str | Path) -> Path:
    """Write ``html_dir/leaderboard.html`` (atomically) and return its path."""
    html_dir = Path(html_dir)
    html_dir.mkdir(parents=True, exist_ok=True)
    path = html_dir / FILENAME
    tmp = path.with_name(f".{FILENAME}.{os.getpid()}.tmp")
    tmp.write_text(page(board), encoding="utf-8")
    os.replace(tmp, path)
    return path
