"""The leaderboard's scale section: the verdict at every scale, per dataset.

For each dataset with runs of the scale grid (``bench_scale``; ``tokfrag.scale`` reads their curves):
one sentence that says where the token - fragment gap flips, widens or narrows; three plots, accuracy
against training FLOPs (the budget axis), training examples (data) and parameters (width), all on log
scales, one line per representation x backbone x framework (x machine) with the seeds' 95% band, a
legend instead of labels, and each point described on hover and focus (an SVG ``<title>``; ``tabindex``
makes it reachable by keyboard); then a table of the differences at every point, the compute-matched
comparison and the dataset's target. Every plot series, legend entry and table row carries the
page's filter attributes (``data-machine``, ``data-device``, ``data-backbone``, ``data-framework``), so
the filters hide them as they hide the board's rows. Colours are SVG presentation attributes: the
page's Content-Security-Policy admits its one hashed style sheet, no inline styles.
"""

from __future__ import annotations

import math
import statistics
from collections import defaultdict
from html import escape

from .. import backbones, stats
from .. import scale as sc
from .board import Board

W, H = 400, 260
LEFT, RIGHT, TOP, BOTTOM = 44, 12, 10, 36
COLOUR = {"token": "#d9480f", "fragment": "#1c7ed6"}
DASHES = ("", "6 3", "2 2", "8 2 2 2")  # by the backbone's place in the registry (the default solid)
FW = {"pytorch": "PyTorch", "tensorflow": "TensorFlow"}
AXES = ("budget", "data", "width")  # plot order: compute first



def _dash(backbone: str) -> str:
    """The line style of a backbone: solid for the default, then by its place in the registry."""
    names = backbones.names()
    style = DASHES[names.index(backbone) % len(DASHES)] if backbone in names else ""
    return f' stroke-dasharray="{style}"' if style else ""

def _e(s) -> str:
    return escape(str(s), quote=True)


def _attrs(g: sc.Group) -> str:
    return (f'data-machine="{_e(g.machine)}" data-device="{_e(g.device)}" data-backbone="{_e(g.backbone)}" '
            f'data-framework="{_e(g.framework)}"')


def _ticks(lo: float, hi: float) -> list[float]:
    """1-2-5 ticks between 10**lo and 10**hi, thinned to at most 6."""
    out = [m * 10.0 ** k for k in range(math.floor(lo), math.ceil(hi) + 1) for m in (1, 2, 5)]
    out = [v for v in out if lo <= math.log10(v) <= hi]
    while len(out) > 6:
        out = out[::2]
    return out


def _si(v: float) -> str:
    for div, suffix in ((1e15, "P"), (1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "k")):
        if abs(v) >= div:
            return f"{v / div:.3g}{suffix}"
    return f"{v:.3g}"


def _series_name(g: sc.Group, rep: str, machines: int) -> str:
    parts = [rep, g.backbone, FW.get(g.framework, g.framework)]
    if machines > 1:
        parts.append(g.machine)
    return " · ".join(parts)


def _band(points: list[tuple[float, stats.Summary]], px, py) -> str:
    """The 95% interval of the mean as a closed polygon (points with an interval only)."""
    pts = [(x, s) for x, s in points if s.lo is not None]
    if len(pts) < 2:
        return ""
    upper = [f"{px(x):.1f},{py(s.hi):.1f}" for x, s in pts]
    lower = [f"{px(x):.1f},{py(s.lo):.1f}" for x, s in reversed(pts)]
    return f'<polygon points="{" ".join(upper + lower)}" fill-opacity="0.15" stroke="none"/>'


def plot(dataset: str, groups: list[sc.Group], axis: str) -> str:
    """Accuracy against the axis's x (log scale) for every group that measured the axis ('' if none)."""
    machines = len({g.machine for g in groups})
    series = []
    for g in groups:
        for rep in ("fragment", "token"):
            pts = [(p.x[rep], p.summary(rep), p) for p in g.axes.get(axis, []) if rep in p.x and p.summary(rep)]
            if len(pts) >= 2:
                series.append((g, rep, sorted(pts, key=lambda t: t[0])))
    if not series:
        return ""
    within = _within_run(groups) if axis == "budget" else []
    xs = [x for *_, pts in series for x, _, _ in pts] + [x for *_, curve in within for x, _ in curve]
    ys = [v for *_, pts in series for _, s, _ in pts for v in (s.mean, s.lo, s.hi) if v is not None]
    ys += [y for *_, curve in within for _, y in curve]
    x_lo, x_hi = math.log10(min(xs)), math.log10(max(xs))
    pad = max(0.05, 0.06 * (x_hi - x_lo))
    x_lo, x_hi = x_lo - pad, x_hi + pad
    y_lo, y_hi = min(ys), max(ys)
    y_pad = max(1.0, 0.06 * (y_hi - y_lo))
    y_lo, y_hi = max(0.0, y_lo - y_pad), min(100.0, y_hi + y_pad)

    def px(x):
        return LEFT + (math.log10(x) - x_lo) / (x_hi - x_lo) * (W - LEFT - RIGHT)

    def py(y):
        return H - BOTTOM - (y - y_lo) / (y_hi - y_lo) * (H - TOP - BOTTOM)

    label = sc.X_LABEL[axis]
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" viewBox="0 0 {W} {H}" role="img" '
           f'aria-label="{_e(dataset)}: test accuracy against {label}" class="scale-plot" data-axis="{axis}" '
           f'font-size="10" font-family="system-ui, sans-serif">']
    for v in _ticks(x_lo, x_hi):
        x = px(v)
        out.append(f'<line x1="{x:.1f}" y1="{TOP}" x2="{x:.1f}" y2="{H - BOTTOM}" stroke="#eaeef2"/>'
                   f'<text x="{x:.1f}" y="{H - BOTTOM + 12}" text-anchor="middle" fill="#6e7781">{_si(v)}</text>')
    step = next(s for s in (1, 2, 5, 10, 20, 25) if (y_hi - y_lo) / s <= 6)
    for v in range(math.ceil(y_lo / step) * step, int(y_hi) + 1, step):
        y = py(v)
        out.append(f'<line x1="{LEFT}" y1="{y:.1f}" x2="{W - RIGHT}" y2="{y:.1f}" stroke="#eaeef2"/>'
                   f'<text x="{LEFT - 4}" y="{y + 3:.1f}" text-anchor="end" fill="#6e7781">{v}</text>')
    out.append(f'<line x1="{LEFT}" y1="{H - BOTTOM}" x2="{W - RIGHT}" y2="{H - BOTTOM}" stroke="#8c959f"/>'
               f'<line x1="{LEFT}" y1="{TOP}" x2="{LEFT}" y2="{H - BOTTOM}" stroke="#8c959f"/>'
               f'<text x="{(LEFT + W - RIGHT) / 2:.0f}" y="{H - 6}" text-anchor="middle">{_e(label)} (log)</text>'
               f'<text transform="translate(11 {(TOP + H - BOTTOM) / 2:.0f}) rotate(-90)" text-anchor="middle">'
               f'test accuracy, %</text>')
    for g, rep, curve in within:
        line = " ".join(f"{px(x):.1f},{py(y):.1f}" for x, y in curve)
        out.append(f'<g {_attrs(g)} data-representation="{rep}" class="within-run">'
                   f'<title>{_e(_series_name(g, rep, machines))}: learning curve of its longest budget run (mean '
                   f'over seeds; its rate had not decayed at the intermediate points)</title>'
                   f'<polyline points="{line}" fill="none" stroke="{COLOUR[rep]}" stroke-width="1" '
                   f'stroke-dasharray="1 3" stroke-opacity="0.8"/></g>')
    for g, rep, pts in series:
        colour, name = COLOUR[rep], _series_name(g, rep, machines)
        line = " ".join(f"{px(x):.1f},{py(s.mean):.1f}" for x, s, _ in pts)
        marks = []
        for x, s, p in pts:
            ci = f", 95% CI [{s.lo:.1f}, {s.hi:.1f}]" if s.lo is not None else ""
            title = (f"{name} on {g.machine} ({g.device}), {p.label}: {s.mean:.1f}% over {s.n} seed(s){ci}; "
                     f"{label} {_si(x)}; token - fragment here {sc.fmt_diff(p.diff)} pts")
            shape = (f'<rect x="{px(x) - 3:.1f}" y="{py(s.mean) - 3:.1f}" width="6" height="6"'
                     if g.framework == "tensorflow" else f'<circle cx="{px(x):.1f}" cy="{py(s.mean):.1f}" r="3"')
            marks.append(f'{shape} tabindex="0" class="scale-point"><title>{_e(title)}</title>'
                         f'{"</rect>" if g.framework == "tensorflow" else "</circle>"}')
        dash = _dash(g.backbone)
        out.append(f'<g {_attrs(g)} data-representation="{rep}" class="scale-series" fill="{colour}">'
                   f'{_band([(x, s) for x, s, _ in pts], px, py)}'
                   f'<polyline points="{line}" fill="none" stroke="{colour}" stroke-width="1.6"{dash}/>'
                   f'{"".join(marks)}</g>')
    out.append("</svg>")
    return "".join(out)


def _within_run(groups: list[sc.Group]) -> list[tuple[sc.Group, str, list[tuple[float, float]]]]:
    """Per group and representation: the learning curve of its longest budget run, mean over seeds."""
    out = []
    for g in groups:
        budget = [p for p in g.axes.get("budget", [])]
        if not budget:
            continue
        longest = budget[-1].label
        for rep in ("fragment", "token"):
            runs = [r for r in g.runs if r["scale"] == longest and r["representation"] == rep and r.get("curve")]
            if not runs:
                continue
            n = min(len(r["curve"]) for r in runs)
            curve = [(statistics.fmean(r["curve"][i]["train_flops"] for r in runs),
                      statistics.fmean(r["curve"][i]["accuracy"] for r in runs)) for i in range(n)]
            out.append((g, rep, curve))
    return out


def legend(groups: list[sc.Group]) -> str:
    machines = len({g.machine for g in groups})
    items = []
    for g in groups:
        for rep in ("fragment", "token"):
            dash = _dash(g.backbone)
            mark = ('<rect x="11" y="2" width="6" height="6"' if g.framework == "tensorflow"
                    else '<circle cx="14" cy="5" r="3"') + f' fill="{COLOUR[rep]}"/>'
            items.append(f'<li {_attrs(g)} data-representation="{rep}"><svg width="28" height="10" aria-hidden="true">'
                         f'<line x1="0" y1="5" x2="28" y2="5" stroke="{COLOUR[rep]}" stroke-width="1.6"{dash}/>'
                         f'{mark}</svg> {_e(_series_name(g, rep, machines))}</li>')
    return ('<ul class="scale-legend">' + "".join(items) + '<li class="note">band: 95% interval of the mean over '
            'seeds; dotted: the longest budget run\'s own learning curve</li></ul>')


def _verdict_cell(p: sc.Point) -> str:
    # the summary's classes (render.py): v-a the first side (token) better, v-b the second, v-none not
    # separated, v-na no interval
    cls = {"token better": "v-a", "fragment better": "v-b", stats.NO_CLEAR: "v-none"}.get(p.verdict, "v-na")
    mark = {"v-a": "▲ ", "v-b": "▼ "}.get(cls, "")
    return (f'<td class="{cls}" title="{_e(p.label)}: token - fragment, {_e(p.verdict)}, '
            f'{p.diff.n if p.diff else 0} seed(s)">{mark}{_e(sc.fmt_diff(p.diff))}</td>')


def table(groups: list[sc.Group]) -> str:
    """token - fragment at every point: one row per group, one column per point, axes in plot order."""
    columns = []
    for axis in AXES:
        labels = {p.label: p.value for g in groups for p in g.axes.get(axis, [])}
        for lbl, _ in sorted(labels.items(), key=lambda kv: kv[1]):
            columns.append((axis, lbl))
    head = "".join(f'<th title="{_e(axis)} axis">{_e(lbl if lbl != "default" else f"{axis}: default")}</th>'
                   for axis, lbl in columns)
    rows = []
    for g in groups:
        cells = []
        for axis, lbl in columns:
            p = next((q for q in g.axes.get(axis, []) if q.label == lbl), None)
            cells.append(_verdict_cell(p) if p is not None else '<td class="v-empty">·</td>')
        rows.append(f'<tr {_attrs(g)}><th>{_e(g.backbone)} · {_e(FW.get(g.framework, g.framework))}'
                    f'<br><small class="note">{_e(g.machine)} · {_e(g.device)} · {g.seeds()} seeds</small></th>'
                    f'{"".join(cells)}</tr>')
    return (f'<div class="scroll"><table class="scale-table sum-accuracy"><thead><tr><th>token - fragment, points '
            f'(95% CI)</th>{head}</tr></thead><tbody>{"".join(rows)}</tbody></table></div>')


def findings(groups: list[sc.Group]) -> tuple[str, list[tuple[sc.Group, dict[str, sc.Finding]]]]:
    found, items = [], []
    for g in groups:
        fs = {axis: sc.describe(axis, g.axes[axis]) for axis in AXES if axis in g.axes}
        found.append((g, fs))
        matched = sc.compute_matched(g)
        bullets = [f"<li>{_e(f.text)}</li>" for f in fs.values()]
        if matched:
            bullets.append("<li>at equal training FLOPs (token " + _e(sc.INTERPOLATED) + "): " + "; ".join(
                f"{_e(_si(m.flops))} FLOPs ({_e(m.fragment_label)} of the fragment): {_e(sc.fmt_diff(m.diff))}"
                for m in matched) + "</li>")
        for t in sc.target(g):
            bullets.append(f"<li>{_e(t.text)}</li>")
        items.append(f'<li {_attrs(g)}><b>{_e(g.backbone)} · {_e(FW.get(g.framework, g.framework))}</b> '
                     f'<small class="note">{_e(g.machine)} · {_e(g.device)} · {g.seeds()} seeds</small>'
                     f'<ul>{"".join(bullets)}</ul></li>')
    return f'<ul class="scale-findings">{"".join(items)}</ul>', found


def _coverage(groups: list[sc.Group]) -> str:
    """Which framework ran which points: the grid in one, the cross-check in the other."""
    by_fw: dict[str, set] = defaultdict(set)
    for g in groups:
        by_fw[g.framework].update(r["scale"] for r in g.runs)
    if len(by_fw) < 2:
        return f"All points in {', '.join(FW.get(f, f) for f in by_fw)}."
    main = max(by_fw, key=lambda f: len(by_fw[f]))
    parts = [f"{FW.get(f, f)}: " + ("the grid" if f == main else f"a cross-check subset ({', '.join(sorted(p))})")
             for f, p in sorted(by_fw.items())]
    return "; ".join(parts) + "."


def sections(board: Board) -> str:
    """The scale section's HTML ("" when no run of the grid is in the results)."""
    groups = sc.groups(board.curves)
    if not groups:
        return ""
    by_dataset: dict[str, list[sc.Group]] = defaultdict(list)
    for g in groups:
        by_dataset[g.dataset].append(g)
    out = []
    for dataset, every in sorted(by_dataset.items()):
        every.sort(key=lambda g: (*backbones.sort_key(g.backbone), g.framework, g.machine, g.device))
        gs = [g for g in every if g.axes]  # a cross-check of single points has no axis: said below
        bullets, found = findings(gs)
        plots = "".join(f"<figure>{svg}</figure>" for svg in (plot(dataset, gs, a) for a in AXES) if svg)
        out.append(f'<section data-dataset="scale-{_e(dataset)}" id="scale-{_e(dataset)}" class="scale">'
                   f'<h2>{_e(dataset)} at every scale</h2>'
                   f'<p class="headline">{_e(sc.headline(dataset, found))}</p>'
                   f'<div class="plots">{plots}{legend(gs)}</div>{table(gs)}'
                   f'<details><summary>Along each axis</summary>{bullets}</details>'
                   f'<p class="note">Differences are final test accuracy, token - fragment '
                   f'({_e(stats.METHOD_PAIRED)}); ▲ token better, ▼ fragment better, the rest not separated. '
                   f'A flip needs both sides\' intervals to exclude zero. {_e(_coverage(every))} '
                   f'{_e(" ".join(sc.cross_check(every)))} Training seconds are not shown: the grid may share '
                   f'its cores, and FLOPs do not depend on it.</p></section>')
    return "".join(out)
