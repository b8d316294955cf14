"""The judging rules of the regression gate: what kind a benchmark is, and when a change counts.

See the package docstring (``tokfrag.compare``) for the rules in words.
"""

from __future__ import annotations

import math

from ..results import Combo

DEFAULT_FACTOR = 1.10  # a slowdown must exceed 10% (and be significant) to count
DEFAULT_ACCURACY_TOL = 1.0  # accuracy points, when no seed spread is available
ALPHA = 0.01  # significance level of the Mann-Whitney U test on time samples

# statuses, in the order the table lists them
ERROR_STATUSES = ("failed", "missing", "incomparable")
ORDER = ERROR_STATUSES + ("regressed", "improved", "changed", "unchanged", "skipped")


def kind_of(name: str, meta: dict) -> str:
    """time | memory | accuracy | throughput | time_to_target | parity | unknown."""
    func = name.rsplit(".", 1)[-1]
    btype, unit = meta.get("type", ""), str(meta.get("unit", ""))
    if btype == "time" or func.startswith("time_"):
        return "time"
    if btype in ("peakmemory", "memory") or func.startswith(("peakmem_", "mem_")):
        return "memory"
    if func == "track_accuracy" or ("accuracy" in func and unit == "%"):
        return "accuracy"
    if func == "track_time_to_target":
        return "time_to_target"
    if func == "track_parity":
        return "parity"
    if func == "track_train_throughput" or unit.endswith("/s"):
        return "throughput"
    if unit == "bytes":
        return "memory"
    return "unknown"


def is_number(v) -> bool:
    """A finite-or-infinite number, not None (failed) nor NaN (skipped)."""
    return isinstance(v, (int, float)) and not isinstance(v, bool) and not math.isnan(v)


def _nan(v) -> bool:
    return isinstance(v, float) and math.isnan(v)


def _ratio(b: float, h: float) -> float:
    if b == 0:
        return 1.0 if h == 0 else math.inf
    return h / b


def _by_factor(b, h, factor, lower_better: bool | None) -> tuple[str, str]:
    r = _ratio(b, h)
    change = f"x{r:.2f}"
    if r > factor or r < 1 / factor:
        if lower_better is None:
            return "changed", change
        worse = (r > factor) == lower_better
        return ("regressed" if worse else "improved"), change
    return "unchanged", change


def _finite_samples(s) -> list[float]:
    return [float(x) for x in (s or []) if is_number(x)]


def significance(base: Combo, head: Combo, alpha: float = ALPHA) -> tuple[bool, str]:
    """Whether two timings differ: U test on samples, else disjoint 99% CIs, else assume so."""
    a, b = _finite_samples(base.samples), _finite_samples(head.samples)
    if len(a) >= 2 and len(b) >= 2:
        p_min = 2 / math.comb(len(a) + len(b), len(a))  # the smallest two-sided p these sizes allow
        if p_min < alpha:
            from scipy.stats import mannwhitneyu

            p = float(mannwhitneyu(a, b, alternative="two-sided").pvalue)
            return p < alpha, f"U test p={p:.2g} ({len(a)} vs {len(b)} samples)"
        why = f"{len(a)} vs {len(b)} samples: too few for a U test at p<{alpha:g}"
    else:
        why = "no samples recorded (asv run --record-samples)"
    ci = [(c.stats.get("ci_99_a"), c.stats.get("ci_99_b")) for c in (base, head)]
    if all(is_number(x) and not math.isinf(x) for pair in ci for x in pair):
        (a0, a1), (b0, b1) = ci
        overlap = a1 >= b0 and a0 <= b1
        return not overlap, f"{why}; 99% CIs {'overlap' if overlap else 'disjoint'}"
    return True, f"{why}, no CI: factor only"


def judge_time(base: Combo, head: Combo, factor: float, alpha: float = ALPHA) -> tuple[str, str, str]:
    status, change = _by_factor(base.value, head.value, factor, lower_better=True)
    significant, note = significance(base, head, alpha)
    if status != "unchanged" and not significant:
        status, change = "unchanged", "~" + change
    return status, change, note


def judge_accuracy(b: float, h: float, tol: float, note: str) -> tuple[str, str, str]:
    diff = h - b
    change = f"{diff:+.2f} pt"
    if diff < -tol:
        return "regressed", change, note
    if diff > tol:
        return "improved", change, note
    return "unchanged", change, note


def judge_pair(kind: str, base: Combo, head: Combo, factor: float, accuracy_tol: float,
               alpha: float = ALPHA) -> tuple[str, str, str]:
    """(status, change, note) of one combination present on both sides."""
    b, h = base.value, head.value
    if b is None or h is None:
        which = "both sides" if b is None and h is None else ("base" if b is None else "head")
        return "failed", "", f"failed on {which} (null in the results file)"
    if kind == "time_to_target" and (_nan(b) or _nan(h)) and not (_nan(b) and _nan(h)):
        return (("regressed", "", "target no longer reached (NaN: never)") if _nan(h)
                else ("improved", "", "target now reached (base: never)"))
    if _nan(b) and _nan(h):
        return "skipped", "", ""
    if _nan(b) or _nan(h):
        return "incomparable", "", f"skipped (NaN) on {'base' if _nan(b) else 'head'} only"
    if kind == "time":
        return judge_time(base, head, factor, alpha)
    if kind == "accuracy":
        return judge_accuracy(b, h, accuracy_tol, f"tolerance {accuracy_tol:g} pt (no seed parameter)")
    if kind == "parity":
        status = "regressed" if h > b else ("improved" if h < b else "unchanged")
        return status, f"{b:g} -> {h:g}", "any increase of failed checks regresses"
    lower = {"memory": True, "time_to_target": True, "throughput": False}.get(kind)
    status, change = _by_factor(b, h, factor, lower)
    return status, change, ("direction unknown: reported as changed, never as regression"
                            if lower is None and status == "changed" else "")
