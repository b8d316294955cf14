"""Regression gate over two asv results files, with an exit code CI can act on.

``asv compare`` always exits 0 and judges every benchmark by one factor. ``tokfrag compare``
reads two asv results files (format v2) of the **same machine and environment** and judges
each benchmark x parameter combination by what its number means:

- ``time_*`` (lower is better): regression when head/base > factor AND the difference is
  significant: a Mann-Whitney U test on the recorded samples (p < ALPHA); without samples,
  disjoint 99% confidence intervals; without either, the factor alone (the note says so).
- ``peakmem_*``, ``mem_*``, ``track_*`` in bytes (lower): head/base > factor.
- ``track_accuracy`` in % (higher), with a ``seed`` parameter: the seeds are **paired** (a seed
  fixes the initial weights, the batch order and the augmentation, so seed 1 of base and seed 1
  of head differ only by the change under test) and judged by the 95% Student t interval of the
  mean paired difference head - base (``tokfrag.stats.paired``, n - 1 df). Regressed when the
  whole interval lies below 0 **and** the mean drop exceeds ``ACCURACY_FLOOR`` (0.1 pt: a
  bit-exact deterministic run moving every seed by 0.01 pt gives an interval of zero width below
  0, and must not fail CI); improved symmetrically; otherwise unchanged, "inside the seed
  noise". With one seed there is no interval: a change > the fixed tolerance (``--accuracy-tol``,
  default 1 pt) decides, and the note says so. Without a seed parameter: the same tolerance.
  With 3 seeds the interval is wide (t = 4.30): a drop must be consistent across the seeds to
  count, and one diverging seed does not fail the gate on its own.
- ``track_*`` in ``.../s`` such as ``track_train_throughput``, and ``track_scaling_efficiency``
  (``bench_workers``; higher): base/head > factor.
- ``track_time_to_target`` (lower): head/base > factor; NaN there means "never reached", so
  number -> NaN is a regression and NaN -> number an improvement.
- ``track_parity`` (failed checks, lower): any increase, in particular 0 -> >0.
- other ``track_*`` (direction unknown): a change beyond the factor is "changed", never a
  regression.

Every other benchmark with a ``seed`` parameter (throughput, time to target, peak memory, batch
size, ...) is judged **once per combination of its other parameters**, not seed by seed: its
rule above on the means over the seeds (note "mean of n seeds"). ``track_time_to_target`` keeps
"never reached": fewer seeds reaching the target on head than on base is a regression; else the
factor rule on the means over the seeds that reach it on both sides (a regression there stands),
and more seeds reaching it on head is an improvement. ``time_*`` benchmarks have their samples
and are judged per combination, seed included.

Seeds are matched by value. A seed in one side's results only (the sides ran different
``--seeds``) cannot be paired: it is named in the note and not judged, and the combination is
judged on the seeds both sides have (missing, exit 2, when they share none); a seed that ran on
one side only and failed there (null) still fails the combination. Judging the shared seeds rather than refusing is
deliberate: a seed that is absent was not run (the seed list is configuration, while a seed
that ran and crashed is recorded as null), and the shared seeds are exactly the pairs the
interval needs. Within the shared seeds, a seed failed on either side fails the combination, a
seed skipped (NaN) on one side only makes it incomparable (except time to target), and a seed
skipped on both sides is dropped. A side whose results have no seed parameter at all (run before
the suite had one) is judged unpaired: its one run against the mean over the other side's seeds,
by the rule without seeds (accuracy: the fixed tolerance), and the note says so.

Exit codes, highest wins: **2** when something cannot be judged (a combination failed, i.e.
is null, on either side; is missing on one side; is skipped on one side only; or the
two files come from different machines or environments), else **1** when something
regressed, else **0**. A combination skipped (NaN) on both sides is fine. 2 wins over 1
because a failed benchmark may hide a regression: the gate must not look greener than it is.

Files: ``rules`` (kinds and verdicts), ``lookup`` (finding the two files), ``gate``
(comparing them), ``table`` (the verdict as text and exit code), ``cli`` (``tokfrag compare``).
The results model is ``tokfrag.results``.
"""

from __future__ import annotations

from ..errors import CompareError
from ..results import Combo, ResultsFile
from .cli import add_parser, cmd_compare
from .gate import compare, compare_sets
from .lookup import pick_pair, read_results, resolve
from .rules import (
    ACCURACY_FLOOR,
    ALPHA,
    DEFAULT_ACCURACY_TOL,
    DEFAULT_FACTOR,
    ERROR_STATUSES,
    ORDER,
    is_number,
    judge_accuracy,
    judge_accuracy_seeds,
    judge_pair,
    judge_seeds,
    judge_time,
    judge_time_to_target_seeds,
    kind_of,
    significance,
)
from .table import ABSENT, EXIT_ERROR, EXIT_OK, EXIT_REGRESSED, Comparison, Row

__all__ = ["ABSENT", "ACCURACY_FLOOR", "ALPHA", "Combo", "CompareError", "Comparison", "DEFAULT_ACCURACY_TOL",
           "DEFAULT_FACTOR", "ERROR_STATUSES", "EXIT_ERROR", "EXIT_OK", "EXIT_REGRESSED", "ORDER", "ResultsFile", "Row",
           "add_parser", "cmd_compare", "compare", "compare_sets", "is_number", "judge_accuracy",
           "judge_accuracy_seeds", "judge_pair", "judge_seeds", "judge_time", "judge_time_to_target_seeds", "kind_of",
           "pick_pair", "read_results", "resolve", "significance"]
