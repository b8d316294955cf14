"""The judging rules of the regression gate: what kind a benchmark is, and when a change counts.

See the package docstring (``tokfrag.compare``) for the rules in words.
"""

from __future__ import annotations

import math
import statistics

from ..results import Combo
from ..stats import METHOD_PAIRED, paired

DEFAULT_FACTOR = 1.10  # a slowdown must exceed 10% (and be significant) to count
DEFAULT_ACCURACY_TOL = 1.0  # accuracy points, when no seed spread is available
# accuracy points: with seeds, a mean paired change must also exceed this to count, so that a
# bit-exact deterministic run moving every seed by the same 0.01 pt (an interval of zero width,
# wholly below zero) does not fail CI; well under any change worth a verdict on MNIST-like tasks
ACCURACY_FLOOR = 0.1
ALPHA = 0.01  # significance level of the Mann-Whitney U test on time samples

# statuses, in the order the table lists them
ERROR_STATUSES = ("failed", "missing", "incomparable")
# excluded: results/annotations.toml keeps the combination out of the gate (listed, never judged)
ORDER = ERROR_STATUSES + ("regressed", "improved", "changed", "unchanged", "excluded", "skipped")


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
    if func in ("track_train_throughput", "track_scaling_efficiency") or unit.endswith("/s"):
        return "throughput"  # higher is better
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


def _seeds(keys) -> str:
    return ", ".join(str(k) for k in keys)


def judge_accuracy_seeds(base: dict, head: dict, tol: float, floor: float = ACCURACY_FLOOR) -> tuple[str, str, str]:
    """Accuracy over seeds, paired: ``base`` and ``head`` map the same seeds to finite values.

    Two or more seeds: the 95% t interval of the mean paired difference head - base
    (``tokfrag.stats.paired``). Regressed when the whole interval lies below zero and the mean
    drop exceeds ``floor``; improved symmetrically; otherwise unchanged. One seed: no interval,
    the fixed tolerance ``tol`` decides (``judge_accuracy``), and the note says so.
    """
    iv = paired(head, base)
    if not iv.has_interval:
        return judge_accuracy(base[next(iter(base))], head[next(iter(head))], tol,
                              f"1 seed ({_seeds(base)}): no interval, tolerance {tol:g} pt")
    d, lo, hi = iv.estimate, iv.lo, iv.hi
    change = f"{d:+.2f} pt"
    where = f"{iv.n} seeds, {METHOD_PAIRED}: [{lo:+.2f}, {hi:+.2f}] pt"
    if hi < 0 and -d > floor:
        return "regressed", change, f"{where}, below 0"
    if lo > 0 and d > floor:
        return "improved", change, f"{where}, above 0"
    if hi < 0 or lo > 0:
        return "unchanged", change, f"{where}, {'below' if hi < 0 else 'above'} 0 but within the {floor:g} pt floor"
    return "unchanged", change, f"{where}, contains 0: inside the seed noise"


def judge_time_to_target_seeds(base: dict, head: dict, factor: float) -> tuple[str, object, object, str, str]:
    """Time to target over seeds; a value is a number or NaN ("never reached"), never NaN on both
    sides for one seed (the gate drops such seeds as skipped).

    Fewer seeds reaching the target on head: regressed. Else the factor rule on the means over
    the seeds that reach it on both sides: a regression there stands. Else more seeds reaching
    it on head: improved. Else the factor rule's verdict (without seeds reaching it on both
    sides: on the means over the seeds that reach it on each side).
    """
    seeds = list(base)
    lost = [s for s in seeds if is_number(base[s]) and _nan(head[s])]
    gained = [s for s in seeds if _nan(base[s]) and is_number(head[s])]
    both = [s for s in seeds if is_number(base[s]) and is_number(head[s])]
    rb, rh = [s for s in seeds if is_number(base[s])], [s for s in seeds if is_number(head[s])]
    bs, hs = (both, both) if both else (rb, rh)
    bm = statistics.fmean(base[s] for s in bs) if bs else "never"
    hm = statistics.fmean(head[s] for s in hs) if hs else "never"
    status, change = ("unchanged", "") if not (bs and hs) else _by_factor(bm, hm, factor, lower_better=True)
    if not lost and not gained:
        return status, bm, hm, change, f"mean of {len(seeds)} seeds"
    reached = f"reached by {len(rb)} of {len(seeds)} seeds on base, {len(rh)} on head"
    moves = "; ".join(x for x in (f"no longer by seed {_seeds(lost)} (NaN: never)" if lost else "",
                                  f"now by seed {_seeds(gained)}" if gained else "") if x)
    means = (f"means over the {len(both)} seeds reaching it on both sides" if both
             else "means over the seeds reaching it on each side")
    note = f"target {reached}: {moves}; {means}" if bs and hs else f"target {reached}: {moves}"
    if len(lost) > len(gained):
        return "regressed", bm, hm, change, note
    if status == "regressed" or len(gained) == len(lost):
        return status, bm, hm, change, note
    return "improved", bm, hm, change, note


def judge_seeds(kind: str, base: dict, head: dict, factor: float, accuracy_tol: float,
                floor: float = ACCURACY_FLOOR) -> tuple[str, object, object, str, str]:
    """(status, base shown, head shown, change, note) of one combination over its seeds.

    ``base`` and ``head`` map the same seeds to values that are numbers, except NaN ("never
    reached") for ``time_to_target``; the gate has already turned nulls, NaN on one side, and
    seeds on one side only into their own rows or notes. Accuracy: ``judge_accuracy_seeds``.
    Time to target: ``judge_time_to_target_seeds``. Any other kind: its rule on the means over
    the seeds (``judge_pair``), noted "mean of n seeds".
    """
    if kind == "accuracy":
        status, change, note = judge_accuracy_seeds(base, head, accuracy_tol, floor)
        return status, statistics.fmean(base.values()), statistics.fmean(head.values()), change, note
    if kind == "time_to_target":
        return judge_time_to_target_seeds(base, head, factor)
    bm, hm = statistics.fmean(base.values()), statistics.fmean(head.values())
    status, change, note = judge_pair(kind, Combo(bm), Combo(hm), factor, accuracy_tol)
    mean = f"mean of {len(base)} seed{'s' if len(base) != 1 else ''}"
    return status, bm, hm, change, "; ".join(x for x in (mean, note) if x)
