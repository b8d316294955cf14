"""Inline SVG plots.

``plot``: accuracy against training time, a scatter plot. Training time is shown per sample
(1 / training throughput, log scale), which compares runs whatever the size of a machine's
training split. Colour is the representation (token orange, fragment blue), shape the
framework (PyTorch circle, TensorFlow square), explained by a legend beside the plot; bars
show ± one sd over the seeds. No point carries text (labels of 40 points pile up): each is
focusable and describes itself on hover and focus (``data-tip``, shown by the page's script).

``scaling_plot``: seconds per training step against sequence length, both on log scales, one
line per machine x framework x representation (same colours and markers; TensorFlow's line is
dashed), labelled at its last point: the labels stand in a column right of the plot, each
joined to its line's end by a thin lead.
"""

from __future__ import annotations

import math
from collections import defaultdict
from html import escape

from ..names import PipelineName
from .board import Row, ScalingPoint
from .columns import seconds

W, H = 520, 300
LEFT, RIGHT, TOP, BOTTOM = 46, 14, 10, 36
SCALING_LEFT = 66  # room for tick labels such as "500 ms" beside the rotated axis title
LABEL_HEIGHT, CHAR_WIDTH = 11, 5.6  # 10px text
SHORT = {"pytorch": "PT", "tensorflow": "TF"}
MACHINE_CHARS = 16  # longer machine names are cut in labels (the tooltip has them whole)


def _e(s) -> str:
    return escape(str(s), quote=True)


def _nice_step(span: float, ticks: int = 5) -> float:
    raw = span / ticks
    mag = 10 ** math.floor(math.log10(raw))
    return next(m * mag for m in (1, 2, 5, 10) if m * mag >= raw)


def _padded(lo: float, hi: float, least: float) -> tuple[float, float]:
    if hi - lo < least:
        mid = (hi + lo) / 2
        lo, hi = mid - least / 2, mid + least / 2
    pad = 0.08 * (hi - lo)
    return lo - pad, hi + pad


def _log_ticks(lo: float, hi: float) -> list[float]:
    out = [m * 10.0**k for k in range(math.floor(lo), math.ceil(hi) + 1) for m in (1, 2, 5)]
    return [v for v in out if lo <= math.log10(v) <= hi]


def _describe(row: Row, ms: float, acc: float) -> str:
    """A point's whole description (its hover and focus text)."""
    acc_cell, thr = row.cells["accuracy"], row.cells["throughput"]
    seeds = f"{acc_cell.n} seed{'s' if acc_cell.n != 1 else ''}"
    spread = "" if acc_cell.sd is None else f" ± {acc_cell.sd:.2f} (sd)"
    thr_sd = "" if thr.sd is None else f" ± {thr.sd:.0f}"
    extra = ", ".join(f"{k} {v}" for k, v in row.params.items() if k not in ("pipeline", "framework", "device"))
    return (f"{row.pipeline} · {row.params.get('framework', '')} · {row.device}"
            + (f" · {extra}" if extra else "") + f" on {row.machine}: accuracy {acc:.2f}%{spread}, "
            f"{ms:.3g} ms/sample ({thr.mean:.0f}{thr_sd} samples/s), {seeds}")


def filters(row: Row) -> str:
    """The data-* attributes the page's filters and search match (see assets.JS)."""
    attrs = {"machine": row.machine, "device": row.device, "framework": row.params.get("framework", ""),
             "backbone": row.params.get("backbone", ""), "pipeline": row.pipeline}
    return " ".join(f'data-{k}="{_e(v)}"' for k, v in attrs.items() if v)


def plot(rows: list[Row], multi_machine: bool) -> str:
    """The SVG of one dataset's rows that have both an accuracy and a throughput ('' if none).

    No text on the points (a legend explains colour and shape, the page's filters narrow them):
    each point is focusable and carries its whole description in ``data-tip`` and ``aria-label``;
    bars show ± one sd over the seeds, in accuracy and in time per sample."""
    data = [(r, 1000.0 / r.value("throughput"), r.value("accuracy")) for r in rows
            if r.value("accuracy") is not None and r.value("throughput")]
    if not data:
        return ""

    def time_bar(r):
        thr, sd = r.value("throughput"), r.cells["throughput"].sd or 0.0
        return 1000.0 / (thr + sd), 1000.0 / max(thr - sd, thr / 10)

    def acc_bar(r):
        sd = r.cells["accuracy"].sd or 0.0
        return r.value("accuracy") - sd, r.value("accuracy") + sd

    xs = [v for r, _, _ in data for v in time_bar(r)]
    ys = [v for r, _, _ in data for v in acc_bar(r)]
    x_lo, x_hi = _padded(math.log10(min(xs)), math.log10(max(xs)), 0.5)
    y_lo, y_hi = _padded(min(ys), max(ys), 4.0)
    y_lo, y_hi = max(0.0, y_lo), min(100.0, y_hi)

    def px(x):
        return LEFT + (math.log10(x) - x_lo) / (x_hi - x_lo) * (W - LEFT - RIGHT)

    def py(y):
        return H - BOTTOM - (min(max(y, y_lo), y_hi) - y_lo) / (y_hi - y_lo) * (H - TOP - BOTTOM)

    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" viewBox="0 0 {W} {H}" role="group" '
           f'aria-label="test accuracy against training time per sample">']
    for v in _log_ticks(x_lo, x_hi):
        x = px(v)
        out.append(f'<line class="grid" x1="{x:.1f}" y1="{TOP}" x2="{x:.1f}" y2="{H - BOTTOM}"/>'
                   f'<text class="tick" x="{x:.1f}" y="{H - BOTTOM + 12}" text-anchor="middle">{v:g}</text>')
    step = _nice_step(y_hi - y_lo)
    for i in range(math.ceil(y_lo / step), math.floor(y_hi / step) + 1):
        y = py(i * step)
        out.append(f'<line class="grid" x1="{LEFT}" y1="{y:.1f}" x2="{W - RIGHT}" y2="{y:.1f}"/>'
                   f'<text class="tick" x="{LEFT - 4}" y="{y + 3:.1f}" text-anchor="end">{i * step:g}</text>')
    out.append(f'<line class="axis" x1="{LEFT}" y1="{H - BOTTOM}" x2="{W - RIGHT}" y2="{H - BOTTOM}"/>'
               f'<line class="axis" x1="{LEFT}" y1="{TOP}" x2="{LEFT}" y2="{H - BOTTOM}"/>'
               f'<text x="{(LEFT + W - RIGHT) / 2:.0f}" y="{H - 6}" text-anchor="middle">'
               f'training time per sample, ms (log) — left is faster</text>'
               f'<text transform="translate(11 {(TOP + H - BOTTOM) / 2:.0f}) rotate(-90)" text-anchor="middle">'
               f'test accuracy %</text>')
    for r, ms, acc in data:
        x, y = px(ms), py(acc)
        representation = PipelineName.parse(r.pipeline).representation
        colour = representation if representation in ("token", "fragment") else "other"
        marker = (f'<rect x="{x - 4:.1f}" y="{y - 4:.1f}" width="8" height="8"/>'
                  if r.params.get("framework") == "tensorflow" else f'<circle cx="{x:.1f}" cy="{y:.1f}" r="4.5"/>')
        (t0, t1), (a0, a1) = time_bar(r), acc_bar(r)
        bars = "".join(f'<line class="bar" x1="{x0:.1f}" y1="{y0:.1f}" x2="{x1:.1f}" y2="{y1:.1f}"/>'
                       for x0, y0, x1, y1 in ((px(t0), y, px(t1), y), (x, py(a0), x, py(a1)))
                       if abs(x1 - x0) + abs(y1 - y0) > 0.5)
        tip = _describe(r, ms, acc)
        out.append(f'<g class="pt {colour}" tabindex="0" role="img" aria-label="{_e(tip)}" data-tip="{_e(tip)}" '
                   f'{filters(r)}>{bars}{marker}</g>')
    out.append("</svg>")
    return "".join(out)


# --- cost scaling ----------------------------------------------------------------------

SCALING_PLOT_WIDTH = 360  # the plot area; the labels of the line ends go to its right
MAX_LABEL_WIDTH = 190  # px: longer labels run past the picture's edge (the tooltip has them whole)
MAX_UNIT_TICKS = 8  # more distinct sequence lengths than this: decade ticks instead


def _colour(representation: str) -> str:
    return representation if representation in ("token", "fragment") else "other"


def _machine_label(machine: str) -> str:
    return machine if len(machine) <= MACHINE_CHARS else machine[:MACHINE_CHARS - 1] + "…"


def _spread(ys: list[float], lo: float, hi: float) -> list[float]:
    """Label baselines moved apart by at least a label's height, kept between lo and hi where they fit."""
    order = sorted(range(len(ys)), key=lambda i: ys[i])
    out = list(ys)
    prev = -math.inf
    for i in order:
        out[i] = max(out[i], prev + LABEL_HEIGHT)
        prev = out[i]
    limit = hi
    for i in reversed(order):
        out[i] = min(out[i], limit)
        limit = out[i] - LABEL_HEIGHT
    return [max(y, lo) for y in out]


def scaling_plot(points: list[ScalingPoint], multi_machine: bool) -> str:
    """Step time against sequence length of the points that have both ('' if none)."""
    data = [p for p in points if p.units and p.step_seconds]  # both > 0: the model rejects anything else
    if not data:
        return ""
    series: dict[tuple, list[ScalingPoint]] = defaultdict(list)
    for p in data:
        series[(p.framework, p.representation, p.machine)].append(p)
    lines = []
    for (framework, representation, machine), pts in sorted(series.items()):
        parts = [representation, SHORT.get(framework, framework)] + ([_machine_label(machine)] if multi_machine else [])
        lines.append((framework, representation, machine, sorted(pts, key=lambda p: (p.units, p.window)),
                      " · ".join(q for q in parts if q)))
    label_width = min(MAX_LABEL_WIDTH, max(CHAR_WIDTH * len(text) for *_, text in lines))
    w = SCALING_LEFT + SCALING_PLOT_WIDTH + 12 + label_width
    right = SCALING_LEFT + SCALING_PLOT_WIDTH  # the plot area's right edge
    x_lo, x_hi = _padded(min(math.log10(p.units) for p in data), max(math.log10(p.units) for p in data), 0.5)
    y_lo, y_hi = _padded(min(math.log10(p.step_seconds) for p in data),
                         max(math.log10(p.step_seconds) for p in data), 1.0)

    def px(units):
        return SCALING_LEFT + (math.log10(units) - x_lo) / (x_hi - x_lo) * SCALING_PLOT_WIDTH

    def py(s):
        return H - BOTTOM - (math.log10(s) - y_lo) / (y_hi - y_lo) * (H - TOP - BOTTOM)

    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{w:.0f}" height="{H}" viewBox="0 0 {w:.0f} {H}" '
           f'role="img" aria-label="seconds per training step against sequence length">']
    units = sorted({p.units for p in data})
    for v in (units if len(units) <= MAX_UNIT_TICKS else _log_ticks(x_lo, x_hi)):
        x = px(v)
        out.append(f'<line class="grid" x1="{x:.1f}" y1="{TOP}" x2="{x:.1f}" y2="{H - BOTTOM}"/>'
                   f'<text class="tick" x="{x:.1f}" y="{H - BOTTOM + 12}" text-anchor="middle">{v:g}</text>')
    for v in _log_ticks(y_lo, y_hi):
        y = py(v)
        out.append(f'<line class="grid" x1="{SCALING_LEFT}" y1="{y:.1f}" x2="{right}" y2="{y:.1f}"/>'
                   f'<text class="tick" x="{SCALING_LEFT - 4}" y="{y + 3:.1f}" text-anchor="end">'
                   f'{_e(seconds(v))}</text>')
    out.append(f'<line class="axis" x1="{SCALING_LEFT}" y1="{H - BOTTOM}" x2="{right}" y2="{H - BOTTOM}"/>'
               f'<line class="axis" x1="{SCALING_LEFT}" y1="{TOP}" x2="{SCALING_LEFT}" y2="{H - BOTTOM}"/>'
               f'<text x="{SCALING_LEFT + SCALING_PLOT_WIDTH / 2:.0f}" y="{H - 6}" text-anchor="middle">'
               f'sequence length, units (log)</text>'
               f'<text transform="translate(11 {(TOP + H - BOTTOM) / 2:.0f}) rotate(-90)" text-anchor="middle">'
               f'seconds per training step (log)</text>')
    ends = [(px(pts[-1].units), py(pts[-1].step_seconds)) for _, _, _, pts, _ in lines]
    label_ys = _spread([y + 3.5 for _, y in ends], TOP + LABEL_HEIGHT, H - BOTTOM)
    for (framework, representation, machine, pts, text), (ex, ey), ly in zip(lines, ends, label_ys):
        classes = f"series {_colour(representation)}" + (" tf" if framework == "tensorflow" else "")
        xy = [(px(p.units), py(p.step_seconds)) for p in pts]
        markers = []
        for p, (x, y) in zip(pts, xy):
            title = (f"{representation} {framework} on {machine}: window {p.window} px, {p.units} units: "
                     f"{seconds(p.step_seconds)} per step")
            shape = (f'<rect x="{x - 3.5:.1f}" y="{y - 3.5:.1f}" width="7" height="7">' if framework == "tensorflow"
                     else f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3.5">')
            markers.append(shape + f"<title>{_e(title)}</title>" + ("</rect>" if framework == "tensorflow"
                                                                     else "</circle>"))
        lead = f'<line class="lead" x1="{ex + 5:.1f}" y1="{ey:.1f}" x2="{right + 4}" y2="{ly - 3.5:.1f}"/>'
        polyline = " ".join(f"{x:.1f},{y:.1f}" for x, y in xy)
        out.append(f'<g class="{classes}" data-device="{_e(pts[0].device)}" data-machine="{_e(machine)}" '
                   f'data-framework="{_e(framework)}">'
                   f'<title>{_e(f"{representation} {framework} on {machine}")}</title>'
                   f'<polyline points="{polyline}"/>{"".join(markers)}{lead}'
                   f'<text x="{right + 6}" y="{ly:.1f}">{_e(text)}</text></g>')
    out.append("</svg>")
    return "".join(out)
