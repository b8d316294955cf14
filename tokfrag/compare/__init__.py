"""Regression gate over two asv results files, with an exit code CI can act on.

``asv compare`` always exits 0 and judges every benchmark by one factor. ``tokfrag compare``
reads two asv results files (format v2) of the **same machine and environment** and judges
each benchmark x parameter combination by what its number means:

- ``time_*`` (lower is better): regression when head/base > factor AND the difference is
  significant: a Mann-Whitney U test on the recorded samples (p < ALPHA); without samples,
  disjoint 99% confidence intervals; without either, the factor alone (the note says so).
- ``peakmem_*``, ``mem_*``, ``track_*`` in bytes (lower): head/base > factor.
- ``track_accuracy`` in % (higher): with a ``seed`` parameter, the means over seeds, and a
  drop > max(2 x sd of the base seeds, tolerance); else a drop > tolerance (points).
- ``track_*`` in ``.../s`` such as ``track_train_throughput`` (higher): base/head > factor.
- ``track_time_to_target`` (lower): head/base > factor; NaN there means "never reached", so
  number -> NaN is a regression and NaN -> number an improvement.
- ``track_parity`` (failed checks, lower): any increase, in particular 0 -> >0.
- other ``track_*`` (direction unknown): a change beyond the factor is "changed", never a
  regression.

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
    ALPHA,
    DEFAULT_ACCURACY_TOL,
    DEFAULT_FACTOR,
    ERROR_STATUSES,
    ORDER,
    is_number,
    judge_accuracy,
    judge_pair,
    judge_time,
    kind_of,
    significance,
)
from .table import ABSENT, EXIT_ERROR, EXIT_OK, EXIT_REGRESSED, Comparison, Row

__all__ = ["ABSENT", "ALPHA", "Combo", "CompareError", "Comparison", "DEFAULT_ACCURACY_TOL", "DEFAULT_FACTOR",
           "ERROR_STATUSES", "EXIT_ERROR", "EXIT_OK", "EXIT_REGRESSED", "ORDER", "ResultsFile", "Row", "add_parser",
           "cmd_compare", "compare", "compare_sets", "is_number", "judge_accuracy", "judge_pair", "judge_time",
           "kind_of", "pick_pair", "read_results", "resolve", "significance"]
