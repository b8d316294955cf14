"""tokfrag.stats against cases computed by hand: t intervals, paired seeds, step-time ratios,
the noisy flag and the verdict words the leaderboard prints."""

import math

import pytest

from tokfrag import stats

T2, T4, T1 = 4.302653, 2.776445, 12.706205  # Student t, 97.5% quantile, df = 2, 4, 1 (printed tables)


def test_t_quantiles_are_the_printed_ones():
    assert stats.t_quantile(2) == pytest.approx(T2, abs=1e-6)
    assert stats.t_quantile(4) == pytest.approx(T4, abs=1e-6)
    assert stats.t_quantile(1) == pytest.approx(T1, abs=1e-6)


def test_summarize_three_values():
    s = stats.summarize([1, 2, 3])  # mean 2, sd 1, half-width 4.303 * 1 / sqrt(3) = 2.484
    assert (s.n, s.mean, s.sd) == (3, 2.0, 1.0)
    assert s.lo == pytest.approx(2 - 2.48414, abs=1e-5) and s.hi == pytest.approx(2 + 2.48414, abs=1e-5)


def test_summarize_one_value_or_none():
    assert stats.summarize([5.0]) == stats.Summary(1, 5.0, None, None, None)
    assert stats.summarize([]) is None


def test_paired_takes_the_seeds_both_sides_ran():
    a = {"0": 91.0, "1": 92.0, "2": 93.0, "3": 50.0}  # seed 3: a only, not paired
    b = {"0": 90.0, "1": 90.0, "2": 90.0}
    iv = stats.paired(a, b)  # differences 1, 2, 3
    assert iv.n == 3 and iv.estimate == pytest.approx(2.0) and iv.method == stats.METHOD_PAIRED
    assert iv.lo == pytest.approx(-0.48414, abs=1e-5) and iv.hi == pytest.approx(4.48414, abs=1e-5)
    assert stats.verdict(iv, "token", "fragment") == stats.NO_CLEAR == "no clear difference"


def test_paired_outside_the_noise():
    # differences 4.0, 3.9, 4.2: mean 4.0333, sd 0.15275, half 4.303 * 0.15275 / sqrt(3) = 0.37946
    iv = stats.paired({"0": 97.0, "1": 97.2, "2": 97.1}, {"0": 93.0, "1": 93.3, "2": 92.9})
    assert iv.estimate == pytest.approx(4.03333, abs=1e-5)
    assert iv.lo == pytest.approx(4.03333 - 0.37946, abs=1e-4) and iv.hi == pytest.approx(4.03333 + 0.37946, abs=1e-4)
    assert stats.verdict(iv, "token", "fragment") == "token better"
    # differences -2, -2.5: sd 0.354, half 12.706 * 0.354 / sqrt(2) = 3.18: two seeds cannot tell
    assert stats.verdict(stats.paired({"0": 1.0, "1": 2.0}, {"0": 3.0, "1": 4.5}), "token", "fragment") \
        == stats.NO_CLEAR
    iv = stats.paired({"0": 1.0, "1": 2.0, "2": 3.0}, {"0": 0.0, "1": 1.0, "2": 2.0})  # always +1: sd 0
    assert (iv.lo, iv.hi) == (1.0, 1.0) and stats.verdict(iv, "a", "b") == "a better"


def test_paired_one_seed_and_no_common_seed():
    iv = stats.paired({"0": 97.0}, {"0": 93.0, "1": 93.1})
    assert iv.n == 1 and iv.estimate == 4.0 and not iv.has_interval
    assert stats.verdict(iv, "token", "fragment") == stats.ONE_SEED == "1 seed: no interval"
    assert stats.paired({"0": 97.0}, {"1": 93.0}) is None
    assert stats.verdict(None, "token", "fragment") == stats.NOT_MEASURED


def test_ratio_of_step_times_by_hand():
    # log times: ln 3 + (-0.02, 0, 0.02) against ln 2 + (-0.02, 0, 0.02): ratio 1.5;
    # each variance 0.0004 / 3, se = sqrt(0.0008 / 3) = 0.016330, Welch df = 4, half = 2.776 * se = 0.045339
    a = [3 * math.exp(-0.02), 3.0, 3 * math.exp(0.02)]
    b = [2 * math.exp(-0.02), 2.0, 2 * math.exp(0.02)]
    iv = stats.ratio(a, b)
    assert iv.estimate == pytest.approx(1.5) and iv.n == 3 and not iv.noisy and iv.method == stats.METHOD_RATIO
    assert iv.lo == pytest.approx(1.5 * math.exp(-0.045339), abs=1e-5)
    assert iv.hi == pytest.approx(1.5 * math.exp(0.045339), abs=1e-5)
    assert stats.faster(iv, "token", "fragment") == "fragment faster"  # token's step takes longer
    assert stats.faster(stats.ratio(b, a), "token", "fragment") == "token faster"
    assert stats.verdict(iv, "token", "fragment", higher_is_better=False, null=1.0) == "fragment better"


def test_ratio_welch_with_one_side_constant():
    # a: log 0 and 0.1 (variance 0.005, / 2 = 0.0025), b: four equal times: df = 1, half = 12.706 * 0.05
    iv = stats.ratio([1.0, math.exp(0.1)], [1.0] * 4)
    assert iv.estimate == pytest.approx(math.exp(0.05))
    assert iv.lo == pytest.approx(math.exp(0.05 - T1 * 0.05), rel=1e-5)
    assert iv.hi == pytest.approx(math.exp(0.05 + T1 * 0.05), rel=1e-5)
    assert stats.faster(iv, "a", "b") == stats.NO_CLEAR


def test_ratio_without_enough_samples():
    assert stats.ratio([], [1.0]) is None and stats.ratio(None, [1.0]) is None
    iv = stats.ratio([2.0], [1.0, 1.1])
    assert iv.estimate == pytest.approx(2 / math.sqrt(1.1)) and not iv.has_interval
    assert stats.faster(iv, "a", "b") == stats.FEW_SAMPLES == "too few samples: no interval"


def test_ratio_ignores_unusable_samples():
    # asv stores null for a lost sample; NaN, zero and negatives are no times either
    iv = stats.ratio([None, 2.0, math.nan, 2.0, -1.0, 0.0, math.inf], [1.0, 1.0])
    assert iv.estimate == pytest.approx(2.0) and iv.n == 2 and (iv.lo, iv.hi) == (2.0, 2.0)
    assert stats.relative_iqr([None, 1.0, 2.0, 3.0, 4.0, 5.0, "x"]) == pytest.approx(2 / 3)


def test_relative_iqr_and_noisy():
    assert stats.relative_iqr([1, 2, 3, 4, 5]) == pytest.approx(2 / 3)  # quartiles 2 and 4, median 3
    assert stats.relative_iqr([1.0, 1.1, 1.2, 1.3, 1.4]) == pytest.approx(0.2 / 1.2)
    assert stats.is_noisy([1.0, 1.1, 1.2, 1.3, 1.4])  # 16.7% > 10%
    assert not stats.is_noisy([1.0, 1.05, 1.1, 1.15, 1.2])  # 0.1 / 1.1 = 9.1%
    assert stats.relative_iqr([1.0, 3.0]) is None and not stats.is_noisy([1.0, 3.0])  # too few to tell


def test_a_noisy_side_decides_no_verdict():
    noisy = [2.0, 2.2, 2.4, 2.6, 2.8, 3.0, 3.2, 3.4]  # relative IQR 0.7 / 2.7 = 26%
    steady = [1.0, 1.0, 1.01, 1.01, 1.0, 0.99, 0.99, 1.0]
    iv = stats.ratio(noisy, steady)
    assert iv.noisy and iv.lo > 1  # the interval alone would say b is faster
    assert stats.faster(iv, "token", "fragment") == stats.NOISY_VERDICT == "noisy: re-measure"


@pytest.mark.parametrize("lo,hi,higher,expected", [
    (0.5, 3.5, True, "token better"),
    (-3.5, -0.5, True, "fragment better"),
    (-1.0, 1.2, True, "no clear difference"),
    (0.5, 3.5, False, "fragment better"),  # a - b of a cost: a costs more
    (-3.5, -0.5, False, "token better"),
])
def test_verdict_words(lo, hi, higher, expected):
    iv = stats.Interval((lo + hi) / 2, lo, hi, 3, stats.METHOD_PAIRED)
    assert stats.verdict(iv, "token", "fragment", higher_is_better=higher) == expected


@pytest.mark.parametrize("lo,hi,expected", [(1.1, 1.3, "fragment faster"), (0.7, 0.9, "token faster"),
                                            (0.9, 1.1, "no clear difference")])
def test_faster_words(lo, hi, expected):
    iv = stats.Interval(1.0, lo, hi, 10, stats.METHOD_RATIO)
    assert stats.faster(iv, "token", "fragment") == expected
