"""The statistics behind every verdict tokfrag publishes: one place, named on the page.

Accuracy comparisons are **paired by seed**: a seed drives the initial weights, the batch order
and the augmentation of both sides, so token and fragment (or TensorFlow and PyTorch) trained
with seed 3 share everything random that they can share. The difference of each pair is taken,
and the 95% interval of the mean difference is Student's t with n - 1 degrees of freedom
(``paired``). With 3 seeds the interval is wide (t = 4.30): it says honestly how little 3 seeds
can tell. Bootstrap intervals are not used for seeds: 3 values have 10 distinct resamples, and
a percentile interval over them is far too narrow.

Speed comparisons use asv's timing samples of one training step on each side (``ratio``):
Welch's t interval on the difference of mean log times, turned back into a ratio with its
95% interval. Samples of one process are not independent draws of the machine's speed (a
busy neighbour shifts them all), so a side whose samples spread by more than ``NOISY`` (relative
interquartile range) is marked noisy and never decides a verdict alone.

A verdict is "<a> better" when the whole interval lies on a's side of zero (of one, for a
ratio), "<b> better" when it lies on b's side, "no clear difference" when it contains zero, and
"1 seed: no interval" (or "too few samples: no interval") when there is nothing to build an
interval from. A ratio of times is judged by ``faster``: "<a> faster" when a's time is lower.
"""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass

CONFIDENCE = 0.95
NOISY = 0.10  # relative IQR of a timing's samples above which it is flagged and re-measured
METHOD_PAIRED = "paired by seed, 95% t interval of the mean difference (n - 1 df)"
METHOD_RATIO = "asv's step samples, Welch 95% t interval on log time, as a ratio"
NO_CLEAR = "no clear difference"
ONE_SEED = "1 seed: no interval"
FEW_SAMPLES = "too few samples: no interval"
NOISY_VERDICT = "noisy: re-measure"
NOT_MEASURED = "not measured on both sides"


def t_quantile(df: float, confidence: float = CONFIDENCE) -> float:
    """The two-sided Student t critical value (4.303 for df = 2 at 95%)."""
    from scipy.stats import t

    return float(t.ppf(0.5 + confidence / 2, df))


@dataclass(frozen=True)
class Summary:
    """Mean, sd and the 95% t interval of the mean of ``n`` values (sd and interval: None when n < 2)."""

    n: int
    mean: float
    sd: float | None
    lo: float | None
    hi: float | None


def summarize(values) -> Summary | None:
    values = [float(v) for v in values]
    if not values:
        return None
    mean = statistics.fmean(values)
    if len(values) < 2:
        return Summary(len(values), mean, None, None, None)
    sd = statistics.stdev(values)
    half = t_quantile(len(values) - 1) * sd / math.sqrt(len(values))
    return Summary(len(values), mean, sd, mean - half, mean + half)


@dataclass(frozen=True)
class Interval:
    """An estimate of a - b (or a / b) with its 95% interval; lo/hi None when n is too small."""

    estimate: float
    lo: float | None
    hi: float | None
    n: int  # pairs (seeds), or the smaller side's samples
    method: str
    noisy: bool = False  # a side's samples spread too much to decide a verdict

    @property
    def has_interval(self) -> bool:
        return self.lo is not None and self.hi is not None


def paired(a: dict, b: dict) -> Interval | None:
    """a - b over the keys (seeds) both sides have; None when they share none."""
    keys = sorted(set(a) & set(b), key=str)
    if not keys:
        return None
    diffs = [float(a[k]) - float(b[k]) for k in keys]
    s = summarize(diffs)
    return Interval(s.mean, s.lo, s.hi, s.n, METHOD_PAIRED)


def _timings(samples) -> list[float]:
    """The usable timing samples: positive, finite numbers (asv may store null for a lost one)."""
    out = []
    for x in samples or ():
        if isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x) and x > 0:
            out.append(float(x))
    return out


def relative_iqr(samples) -> float | None:
    """Interquartile range over the median of timing samples (None with fewer than 3)."""
    xs = sorted(_timings(samples))
    if len(xs) < 3:
        return None
    q1, _, q3 = statistics.quantiles(xs, n=4, method="inclusive")
    med = statistics.median(xs)
    return (q3 - q1) / med if med > 0 else None


def is_noisy(samples, threshold: float = NOISY) -> bool:
    spread = relative_iqr(samples)
    return spread is not None and spread > threshold


def ratio(a_samples, b_samples, threshold: float = NOISY) -> Interval | None:
    """Ratio of typical times a / b from positive timing samples (geometric means); None without samples."""
    a = [math.log(x) for x in _timings(a_samples)]
    b = [math.log(x) for x in _timings(b_samples)]
    if not a or not b:
        return None
    d = statistics.fmean(a) - statistics.fmean(b)
    n = min(len(a), len(b))
    noisy = is_noisy(a_samples, threshold) or is_noisy(b_samples, threshold)
    if len(a) < 2 or len(b) < 2:
        return Interval(math.exp(d), None, None, n, METHOD_RATIO, noisy)
    va, vb = statistics.variance(a) / len(a), statistics.variance(b) / len(b)
    se = math.sqrt(va + vb)
    if se == 0:
        return Interval(math.exp(d), math.exp(d), math.exp(d), n, METHOD_RATIO, noisy)
    df = (va + vb) ** 2 / (va ** 2 / (len(a) - 1) + vb ** 2 / (len(b) - 1))  # Welch-Satterthwaite
    half = t_quantile(df) * se
    return Interval(math.exp(d), math.exp(d - half), math.exp(d + half), n, METHOD_RATIO, noisy)


def decide(interval: Interval | None, a_wins: str, b_wins: str, higher_is_better: bool = True,
           null: float = 0.0) -> str:
    """``a_wins`` when the whole interval of a - b (or a / b, ``null`` 1) lies on a's side of ``null``,
    ``b_wins`` on b's side, NO_CLEAR when it contains ``null``; why there is none when it cannot decide."""
    if interval is None:
        return NOT_MEASURED
    if not interval.has_interval:
        return ONE_SEED if interval.method == METHOD_PAIRED else FEW_SAMPLES
    if interval.noisy:
        return NOISY_VERDICT
    if interval.lo > null:
        return a_wins if higher_is_better else b_wins
    if interval.hi < null:
        return b_wins if higher_is_better else a_wins
    return NO_CLEAR


def verdict(interval: Interval | None, a: str, b: str, higher_is_better: bool = True, null: float = 0.0) -> str:
    """"<a> better", "<b> better" or "no clear difference" from an interval of a - b (``null`` 0)
    or a / b (``null`` 1); why there is none when the interval cannot decide."""
    return decide(interval, f"{a} better", f"{b} better", higher_is_better, null)


def faster(interval: Interval | None, a: str, b: str) -> str:
    """"<a> faster", "<b> faster" or "no clear difference" from a ratio of times a / b (``ratio``):
    a lower time is the faster side, so a ratio interval wholly below 1 means a is faster."""
    return decide(interval, f"{a} faster", f"{b} faster", higher_is_better=False, null=1.0)
