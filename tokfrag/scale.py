"""The verdict as a function of scale: token - fragment along each axis of the scale grid.

Read from the learning curves (``tokfrag.curves``) of ``bench_scale``'s runs: for each machine x device
x framework x dataset x backbone, and each axis (``spec.SCALE_AXES``: data, width, budget) with the
default point shared by all three,

* the token - fragment difference in final test accuracy at every point, paired by seed, with its 95%
  t interval (``stats.paired``) and verdict;
* where the verdict flips, widens or narrows (``describe``): a flip is a point where one side is better
  and another point where the other is, both intervals excluding zero; a sign change of the estimate
  whose intervals include zero is "not separated", never a flip; a gap that widens or narrows is
  measured as the change of the difference between the axis's two ends, itself paired by seed;
* the compute-matched comparison (``compute_matched``): accuracy at equal training FLOPs, on the budget
  axis's runs (each a run whose schedule ends at its budget), the token side interpolated linearly in
  log FLOPs between its two nearest budgets at each fragment budget inside its range (a fragment's step
  costs more FLOPs than a token's: its projection is a matmul, the token's lookup is free);
* the budget at which a representation first reaches the dataset's target, or the best accuracy it
  reached anywhere in the grid (``target``).
"""

from __future__ import annotations

import math
import statistics
from collections import defaultdict
from dataclasses import dataclass, field

from . import stats
from .backbones import sort_key
from .spec import DEFAULT_POINT, EMBEDDED, SCALE_AXES, parse_point

GROUP = ("machine", "device", "framework", "dataset", "backbone")
X_OF = {"data": "n_train", "width": "params", "budget": "train_flops"}  # what each axis's plot puts on x
X_LABEL = {"data": "training examples", "width": "parameters", "budget": "training FLOPs"}
INTERPOLATED = "interpolated linearly in log FLOPs between the two nearest end-of-schedule budget runs"


@dataclass
class Point:
    """One scale point of one axis: each representation's final accuracy per seed, and x."""

    label: str  # "default", "data=1/8", ...
    value: float  # the axis's value: fraction, width, budget multiple
    x: dict[str, float]  # representation -> the plot's x (examples, parameters, FLOPs; mean over seeds)
    accuracy: dict[str, dict[str, float]]  # representation -> {seed: accuracy}
    diff: stats.Interval | None = None  # token - fragment, paired by seed

    @property
    def verdict(self) -> str:
        return stats.verdict(self.diff, "token", "fragment")

    def summary(self, representation: str) -> stats.Summary | None:
        return stats.summarize(self.accuracy.get(representation, {}).values())


@dataclass
class Group:
    """The scale points of one machine, device, framework, dataset and backbone."""

    machine: str
    device: str
    framework: str
    dataset: str
    backbone: str
    axes: dict[str, list[Point]] = field(default_factory=dict)  # axis -> points ordered by value (default in)
    runs: list[dict] = field(default_factory=list)

    @property
    def key(self) -> tuple:
        return self.machine, self.device, self.framework, self.dataset, self.backbone

    def seeds(self) -> int:
        return max((len(a) for pts in self.axes.values() for p in pts for a in p.accuracy.values()), default=0)


def _axis_of(scale: str) -> tuple[str, float]:
    return parse_point(scale)


def groups(curves: list[dict]) -> list[Group]:
    """The scale grid's runs (curve lines with a scale point) grouped, each axis's points paired."""
    by: dict[tuple, list[dict]] = defaultdict(list)
    for r in curves:
        if r.get("scale"):
            by[tuple(r.get(k) for k in GROUP)].append(r)
    out = []
    for key, runs in sorted(by.items(), key=lambda kv: tuple(map(str, kv[0]))):
        g = Group(*key, runs=runs)
        points: dict[str, dict] = {}
        for r in runs:
            p = points.setdefault(r["scale"], {"acc": defaultdict(dict), "x": defaultdict(lambda: defaultdict(list))})
            p["acc"][r["representation"]][str(r["seed"])] = float(r["accuracy"])
            for axis, field_ in X_OF.items():
                p["x"][axis][r["representation"]].append(float(r[field_]))
        for axis in SCALE_AXES:
            labels = [lbl for lbl in points if lbl == DEFAULT_POINT or _axis_of(lbl)[0] == axis]
            if len(labels) < 2:
                continue
            pts = []
            for lbl in labels:
                p = points[lbl]
                value = _axis_of(lbl)[1] if lbl != DEFAULT_POINT else _default_value(axis, runs)
                x = {rep: statistics.fmean(xs) for rep, xs in p["x"][axis].items()}
                acc = {rep: dict(a) for rep, a in p["acc"].items()}
                diff = stats.paired(acc["token"], acc["fragment"]) if {"token", "fragment"} <= set(acc) else None
                pts.append(Point(lbl, value, x, acc, diff))
            g.axes[axis] = sorted(pts, key=lambda p: p.value)
        out.append(g)
    return out


def _default_value(axis: str, runs: list[dict]) -> float:
    """The default point's place on ``axis``: fraction 1, budget 1, or its width."""
    if axis == "width":
        return float(next(r["width"] for r in runs if r["scale"] == DEFAULT_POINT))
    return 1.0


def _sign(p: Point) -> int:
    """+1 token better, -1 fragment better, 0 not separated (or no interval)."""
    d = p.diff
    if d is None or not d.has_interval:
        return 0
    return 1 if d.lo > 0 else -1 if d.hi < 0 else 0


def fmt_diff(d: stats.Interval | None) -> str:
    if d is None:
        return "not measured on both sides"
    if not d.has_interval:
        return f"{d.estimate:+.1f} (1 seed: no interval)"
    return f"{d.estimate:+.1f} [{d.lo:+.1f}, {d.hi:+.1f}]"


def change(a: Point, b: Point) -> stats.Interval | None:
    """How the token - fragment difference changes from point ``a`` to point ``b``, paired by seed (the
    seeds measured at both points on both sides)."""
    def diffs(p):
        t, f = p.accuracy.get("token", {}), p.accuracy.get("fragment", {})
        return {s: t[s] - f[s] for s in t.keys() & f.keys()}

    return stats.paired(diffs(b), diffs(a))


@dataclass(frozen=True)
class Finding:
    """What one axis says: ``kind`` is "flip", "widens", "narrows", "holds", "not separated" or "not measured"."""

    axis: str
    kind: str
    text: str


def describe(axis: str, points: list[Point]) -> Finding:
    """One sentence on where the token - fragment gap widens, narrows or flips along ``axis``."""
    if not points:
        return Finding(axis, "not separated", f"{axis}: not measured")
    span = f"{points[0].label if points[0].label != DEFAULT_POINT else _plain(axis, points[0])} to " \
           f"{points[-1].label if points[-1].label != DEFAULT_POINT else _plain(axis, points[-1])}"
    if all(p.diff is None for p in points):
        return Finding(axis, "not measured", f"{axis}: token and fragment not both measured ({span})")
    signs = [_sign(p) for p in points]
    pos = [p for p, s in zip(points, signs) if s > 0]
    neg = [p for p, s in zip(points, signs) if s < 0]
    if pos and neg:
        first, second = (pos, neg) if points.index(pos[0]) < points.index(neg[0]) else (neg, pos)
        a, b = first[0], second[0]
        side = {1: "token", -1: "fragment"}
        return Finding(axis, "flip", f"{axis}: the verdict flips, {side[_sign(a)]} better at {_lbl(axis, a)} "
                                     f"({fmt_diff(a.diff)}), {side[_sign(b)]} better at {_lbl(axis, b)} "
                                     f"({fmt_diff(b.diff)})")
    lo, hi = points[0], points[-1]
    delta = change(lo, hi)
    where = f"{fmt_diff(lo.diff)} at {_lbl(axis, lo)} to {fmt_diff(hi.diff)} at {_lbl(axis, hi)}"
    if not pos and not neg:
        estimates = [p.diff.estimate for p in points if p.diff is not None]
        crosses = bool(estimates) and min(estimates) < 0 < max(estimates)
        note = " (the estimate changes sign, inside the noise)" if crosses else ""
        return Finding(axis, "not separated", f"{axis}: no flip within the measured range ({span}); token and "
                                              f"fragment not separated at any point{note}: from {where}")
    better = "token" if pos else "fragment"
    shown = pos or neg
    if delta is not None and delta.has_interval and (delta.lo > 0 or delta.hi < 0):
        grows = (delta.estimate > 0) == (better == "token")
        kind = "widens" if grows else "narrows"
        return Finding(axis, kind, f"{axis}: no flip within the measured range ({span}); {better} better at "
                                   f"{len(shown)} of {len(points)} points, the gap {kind} from {where} "
                                   f"(change {fmt_diff(delta)})")
    why = (f"the change, {fmt_diff(delta)}, is not separated from zero" if delta is not None and delta.has_interval
           else "the change between the ends has no interval")
    return Finding(axis, "holds", f"{axis}: no flip within the measured range ({span}); {better} better at "
                                  f"{len(shown)} of {len(points)} points (from {where}; {why})")


def _plain(axis: str, p: Point) -> str:
    if axis == "width":
        return f"width={p.value:g}"
    return f"{axis}=1"


def _lbl(axis: str, p: Point) -> str:
    return p.label if p.label != DEFAULT_POINT else _plain(axis, p)


@dataclass(frozen=True)
class Matched:
    """Accuracy at equal training FLOPs: the fragment's budget run, the token's interpolated there."""

    flops: float
    fragment_label: str
    fragment: stats.Summary | None
    token: stats.Summary | None
    diff: stats.Interval | None  # token - fragment, paired by seed

    @property
    def verdict(self) -> str:
        return stats.verdict(self.diff, "token", "fragment")


def _interp(points: list[tuple[float, float]], x: float) -> float | None:
    """Linear interpolation in log x over (x, y) points sorted by x; None outside their range."""
    if not points or x < points[0][0] * (1 - 1e-9) or x > points[-1][0] * (1 + 1e-9):
        return None
    for (x0, y0), (x1, y1) in zip(points, points[1:]):
        if x0 <= x <= x1:
            if x1 == x0:
                return y0
            w = (math.log(x) - math.log(x0)) / (math.log(x1) - math.log(x0))
            return y0 + w * (y1 - y0)
    return points[0][1]


def compute_matched(g: Group) -> list[Matched]:
    """Token against fragment at each fragment budget run's FLOPs inside the token's measured range (see
    the module's docstring), per seed, then paired."""
    runs = [r for r in g.runs if r["scale"] == DEFAULT_POINT or _axis_of(r["scale"])[0] == "budget"]
    per: dict[str, dict[str, list[tuple[float, float]]]] = defaultdict(lambda: defaultdict(list))
    labels: dict[float, str] = {}
    for r in runs:
        per[r["representation"]][str(r["seed"])].append((float(r["train_flops"]), float(r["accuracy"])))
        if r["representation"] == "fragment":
            labels[float(r["train_flops"])] = "budget=1" if r["scale"] == DEFAULT_POINT else r["scale"]
    out = []
    frag_flops = sorted({f for pts in per["fragment"].values() for f, _ in pts})
    for f in frag_flops:
        tok, frag = {}, {}
        for seed, pts in per["token"].items():
            y = _interp(sorted(pts), f)
            fr = dict(per["fragment"].get(seed, []))
            if y is not None and f in fr:
                tok[seed], frag[seed] = y, fr[f]
        if tok:
            out.append(Matched(f, labels[f], stats.summarize(frag.values()), stats.summarize(tok.values()),
                               stats.paired(tok, frag)))
    return out


@dataclass(frozen=True)
class Target:
    representation: str
    reached_at: str | None  # the smallest budget point whose mean accuracy reaches the target

    best: float  # the best mean accuracy anywhere in the group's grid
    best_at: str
    goal: float | None = None  # the dataset's target accuracy, %
    elsewhere: tuple = ()  # the other points (data, width) whose mean accuracy reaches it

    @property
    def text(self) -> str:
        """What the representation reached, in words."""
        best = f"best {self.best:.1f}% (mean over seeds) at {self.best_at}"
        if self.goal is None:
            return f"{self.representation}: {best}"
        goal = f"the {self.goal:g}% target"
        if self.reached_at:
            return f"{self.representation} reaches {goal} at {self.reached_at}; {best}"
        if self.elsewhere:
            return (f"{self.representation} reaches {goal} at {', '.join(self.elsewhere)}, at no budget point; "
                    f"{best}")
        return f"{self.representation} never reaches {goal}; {best}"


def target(g: Group) -> list[Target]:
    """Per representation: the smallest budget whose mean final accuracy reaches the dataset's target, and
    the best mean accuracy of any point of the grid."""
    goal = EMBEDDED[g.dataset].target_accuracy if g.dataset in EMBEDDED else None
    out = []
    for rep in ("fragment", "token"):
        means: dict[str, float] = {}
        for pts in g.axes.values():
            for p in pts:
                s = p.summary(rep)
                if s is not None:
                    means[p.label] = s.mean
        if not means:
            continue
        best_at = max(means, key=means.get)
        reached = None
        if goal is not None:
            for p in g.axes.get("budget", []):
                s = p.summary(rep)
                if s is not None and s.mean >= goal:
                    reached = "budget=1" if p.label == DEFAULT_POINT else p.label
                    break
        elsewhere = tuple(lbl for lbl, m in means.items() if goal is not None and m >= goal
                          and not lbl.startswith("budget") and lbl != DEFAULT_POINT)
        out.append(Target(rep, reached, means[best_at], best_at, goal, elsewhere))
    return out


def headline(dataset: str, found: list[tuple[Group, dict[str, Finding]]]) -> str:
    """One sentence per dataset: where the gap flips, or that it does not within the measured range."""
    flips = [(g, f) for g, fs in found for f in fs.values() if f.kind == "flip"]
    if flips:
        g, f = flips[0]
        more = f" (and {len(flips) - 1} more)" if len(flips) > 1 else ""
        return f"{dataset}: the verdict flips along {f.axis} under the {g.backbone} in {g.framework}{more}: " \
               f"{f.text.split(': ', 1)[1]}"
    moving = [(g, f) for g, fs in found for f in fs.values() if f.kind in ("widens", "narrows")]
    axes = sorted({f.axis for _, fs in found for f in fs.values() if f.kind != "not measured"})
    if not axes:
        return f"{dataset}: token and fragment not both measured yet"
    text = f"{dataset}: no flip within the measured range ({', '.join(axes)})"
    leads = [lead for g, _ in found if (lead := _lead(g))]
    if leads:
        text += "; " + "; ".join(leads[:2])
    if moving:
        text += "; " + "; ".join(f"under the {g.backbone} in {g.framework} the gap {f.kind} along {f.axis} (change "
                                 f"{f.text.rsplit('(change ', 1)[-1].rstrip(')')} points)" for g, f in moving[:4])
    return text


def _lead(g: Group) -> str:
    """Who is ahead where, under one group: "under the transformer in pytorch token ahead at 6 of 7 points
    (+9.4 to +11.4)"; empty when no point separates the two."""
    points = {p.label: p for pts in g.axes.values() for p in pts if p.diff is not None}
    by_side = {side: [p for p in points.values() if _sign(p) == sign] for side, sign in (("token", 1),
                                                                                        ("fragment", -1))}
    parts = [f"{side} ahead at {len(ps)} of {len(points)} points ({min(p.diff.estimate for p in ps):+.1f} to "
             f"{max(p.diff.estimate for p in ps):+.1f})" if len(ps) > 1 else
             f"{side} ahead at 1 of {len(points)} points ({ps[0].label}: {fmt_diff(ps[0].diff)})"
             for side, ps in by_side.items() if ps]
    return f"under the {g.backbone} in {g.framework} " + ", ".join(parts) if parts else ""


def _machine_line(g: Group) -> str:
    return f"{g.backbone}, {g.framework}, {g.machine} ({g.device}), {g.seeds()} seeds"


def cross_check(gs: list[Group], main: str = "pytorch") -> list[str]:
    """Each other framework's runs against ``main``'s at the same pipeline, point and seed: their accuracy
    difference, paired by run, with its 95% interval (the grid runs in one framework, the other checks it)."""
    def key(r):
        return r["representation"], r["scale"], str(r["seed"])

    out = []
    for g in gs:
        if g.framework == main:
            continue
        ref = {key(r): float(r["accuracy"]) for h in gs if h.framework == main and
               (h.machine, h.device, h.dataset, h.backbone) == (g.machine, g.device, g.dataset, g.backbone)
               for r in h.runs}
        d = stats.paired({key(r): float(r["accuracy"]) for r in g.runs}, ref)
        if d is not None:
            points = ", ".join(sorted({r["scale"] for r in g.runs}))
            out.append(f"{g.framework} cross-check ({g.backbone}, {points}; {d.n} runs): {g.framework} - {main} "
                       f"accuracy {fmt_diff(d)} points, paired by pipeline, point and seed; past the steps parity "
                       "proves, rounding separates the two runs of a seed (docs/scale.md), so this compares "
                       "accuracy over seeds, not weights.")
    return out


def headlines(curves: list[dict]) -> list[str]:
    """One sentence per dataset of the grid (``headline``)."""
    by: dict[str, list[Group]] = defaultdict(list)
    for g in groups(curves):
        by[g.dataset].append(g)
    return [headline(d, [(g, {a: describe(a, g.axes[a]) for a in SCALE_AXES if a in g.axes}) for g in gs])
            for d, gs in sorted(by.items())]


def report(curves: list[dict]) -> str:
    """The scale grid's findings as Markdown, from the curves (``tokfrag publish --format scale-md``): per
    dataset its headline, then per backbone x framework x machine the difference at every point, what
    each axis says, the compute-matched comparison and the target. Empty when the grid has no run."""
    gs = groups(curves)
    if not gs:
        return ""
    by: dict[str, list[Group]] = defaultdict(list)
    for g in gs:
        by[g.dataset].append(g)
    out = ["Token - fragment test accuracy in points, paired by seed (95% t interval of the mean difference); "
           "a flip needs intervals that exclude zero on both sides.", ""]
    for dataset, dgs in sorted(by.items()):
        dgs.sort(key=lambda g: (*sort_key(g.backbone), g.framework, g.machine))
        checks = cross_check(dgs)
        dgs = [g for g in dgs if g.axes]  # a cross-check of single points has no axis: its line follows
        found = [(g, {a: describe(a, g.axes[a]) for a in SCALE_AXES if a in g.axes}) for g in dgs]
        out += [f"### {dataset}", "", f"**{headline(dataset, found)}**", ""]
        for g, fs in found:
            out.append(f"- **{_machine_line(g)}**")
            for axis in SCALE_AXES:
                if axis in g.axes:
                    pts = ", ".join(f"{_lbl(axis, p)} {fmt_diff(p.diff)}" for p in g.axes[axis])
                    out.append(f"  - {axis}: {pts}. {fs[axis].text.split(': ', 1)[1]}")
            matched = compute_matched(g)
            if matched:
                out.append("  - at equal training FLOPs (token " + INTERPOLATED + "): " + "; ".join(
                    f"{m.flops:.3g} FLOPs ({m.fragment_label} of the fragment) {fmt_diff(m.diff)}" for m in matched))
            for t in target(g):
                out.append(f"  - {t.text}")
        out += [f"- {c}" for c in checks]
        out.append("")
    return "\n".join(out)
