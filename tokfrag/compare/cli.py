"""``tokfrag compare``: the regression gate on the command line."""

from __future__ import annotations

import argparse

from ..errors import UsageError
from .gate import compare
from .rules import ACCURACY_FLOOR, ALPHA, DEFAULT_ACCURACY_TOL, DEFAULT_FACTOR


def add_parser(sub) -> None:
    s = sub.add_parser(
        "compare", help="regression gate: compare two commits' results, exit 1 on a regression",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Compare the asv results of BASE and HEAD (same machine, same environment) and exit "
                    "with a code CI can act on.\n\n"
                    f"time_*: regression when head/base > FACTOR (default {DEFAULT_FACTOR:.2f}) and a "
                    f"Mann-Whitney U test on the recorded samples says p < {ALPHA:g} (without samples: "
                    "disjoint 99% CIs; without CIs: the factor alone, said in the note).\n"
                    "peakmem_*, track_* in bytes, track_time_to_target: head/base > FACTOR.\n"
                    "track_train_throughput (and track_* in .../s): base/head > FACTOR.\n"
                    "track_accuracy with a seed parameter: seeds paired (same seed on both sides), the 95% t "
                    "interval of the mean difference head - base; regressed when the whole interval is below 0 "
                    f"and the mean drop exceeds {ACCURACY_FLOOR:g} pt, improved likewise above 0, else unchanged "
                    "(inside the seed noise). With one seed, or no seed parameter: a change of more than "
                    f"--accuracy-tol points (default {DEFAULT_ACCURACY_TOL:g}).\n"
                    "Other track_* with a seed parameter: one verdict per combination on the means over the "
                    "seeds (track_time_to_target: fewer seeds reaching the target on head is a regression). "
                    "Seeds in one side's results only are named in the note and not judged.\n"
                    "track_parity: any increase of failed checks. Other track_*: reported as changed.",
        epilog="exit codes: 0 no regression; 1 something regressed; 2 a benchmark failed (null) on either "
               "side, is missing or skipped on one side only, or the two sides are of different machines "
               "or environments. 2 wins over 1.")
    s.add_argument("base", metavar="BASE", help="a commit (any git revision), a results file or a results folder")
    s.add_argument("head", metavar="HEAD", help="the same, for the side under test")
    s.add_argument("--factor", type=float, default=DEFAULT_FACTOR,
                   help=f"ratio a number must change by to count (default {DEFAULT_FACTOR:.2f}, i.e. 10%%)")
    s.add_argument("--accuracy-tol", type=float, default=DEFAULT_ACCURACY_TOL, metavar="POINTS",
                   help=f"accuracy change tolerated where seeds give no interval (one seed, or no seed parameter), "
                        f"in points (default {DEFAULT_ACCURACY_TOL:g})")
    s.add_argument("--only-changed", action="store_true", help="do not list unchanged benchmarks")
    s.add_argument("--machine", metavar="NAME", help="machine folder to look commits up in (default: any)")
    s.add_argument("--benchmark", metavar="REGEX", help="only benchmarks matching REGEX (as asv -b)")
    s.add_argument("--results", metavar="DIR", help="results folder for commit look-up (default: <repo>/results)")
    s.set_defaults(func=cmd_compare)


def cmd_compare(args) -> int:
    if args.factor <= 1:
        raise UsageError(f"--factor must be > 1 (got {args.factor:g}), e.g. 1.10")
    result = compare(args.base, args.head, factor=args.factor, only_changed=args.only_changed,
                     machine=args.machine, benchmark_regex=args.benchmark, results_dir=args.results,
                     accuracy_tol=args.accuracy_tol)
    print(result.table())
    return result.exit_code
