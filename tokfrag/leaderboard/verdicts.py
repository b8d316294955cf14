"""The verdicts that open each dataset's section: one or two quotable sentences per machine and
device, made from the duels (``pairs.COMPARISONS``).

Only what an interval supports is claimed: "fragment is more accurate than token in PyTorch"
needs the whole 95% interval of the paired difference above zero, "token's step is slower"
needs the whole interval of the step-time ratio above one. Pairs whose interval holds zero (or
one) are counted as "no clear difference"; with one seed the sentence says "1 seed: no
interval", never a winner. Noisy timings are counted as such, throughput-only ratios are not
mentioned (they have no interval). Plain text: ``render`` escapes it.
"""

from __future__ import annotations

from collections import defaultdict

from .. import stats
from .board import Duel, Row
from .pairs import COMPARISONS, Comparison

MAX_LISTED = 3  # pairs named in one clause; the rest are counted


def signed(v: float, digits: int = 2) -> str:
    """+1.20 / −0.40: a difference, with a real minus sign."""
    return f"{v:+.{digits}f}".replace("-", "−")


def number(v: float, digits: int = 2) -> str:
    return f"{v:.{digits}f}".replace("-", "−")


def seeds_text(counts) -> str:
    """[3] -> "3 seeds", [1] -> "1 seed", [1, 3] -> "1–3 seeds"."""
    counts = sorted(set(counts))
    if not counts:
        return ""
    n = f"{counts[0]}" if len(counts) == 1 else f"{counts[0]}–{counts[-1]}"
    return f"{n} seed{'' if n == '1' else 's'}"


def _and(parts: list[str], more: int = 0) -> str:
    """"A", "A and B", "A, B and C", "A, B, C and 2 more"."""
    parts = parts + ([f"{more} more"] if more else [])
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]


def _listing(comp: Comparison, items: list[tuple[Duel, str]]) -> str:
    """"in PyTorch (…) and in TensorFlow (…)": the pairs' contexts, each with its numbers."""
    named = [f"{comp.prep} {comp.context(d.a)} ({numbers})" for d, numbers in items[:MAX_LISTED]]
    return _and(named, max(0, len(items) - MAX_LISTED))


def _noun(comp: Comparison, duels: list[Duel], total: int) -> str:
    plural = "combinations" if any(" " in comp.context(d.a) for d in duels) else comp.noun
    return plural[:-1] if total == 1 else plural


def _points(interval: stats.Interval, sign: int) -> str:
    """The winner's lead in points with its interval (sign -1: b won, so the difference is b - a)."""
    lo, hi = (interval.lo, interval.hi) if sign > 0 else (-interval.hi, -interval.lo)
    return f"{signed(sign * interval.estimate)} pts, 95% CI [{number(lo)}, {number(hi)}]"


def _times(interval: stats.Interval, a_slower: bool) -> str:
    """How many times slower the slower side's step is, with its interval."""
    r, lo, hi = ((interval.estimate, interval.lo, interval.hi) if a_slower
                 else (1 / interval.estimate, 1 / interval.hi, 1 / interval.lo))
    return f"{number(r)}×, 95% CI [{number(lo)}, {number(hi)}]"


def accuracy_clauses(comp: Comparison, duels: list[Duel]) -> list[str]:
    """Who is more accurate where, how many pairs show no clear difference, and which have 1 seed."""
    duels = [d for d in duels if d.accuracy is not None]
    if not duels:
        return []
    a, b = duels[0].names
    out = []
    for winner, loser, sign in ((a, b, 1), (b, a, -1)):
        won = [d for d in duels if d.accuracy_verdict == f"{winner} better"]
        if won:
            out.append(f"{winner} is more accurate than {loser} "
                       + _listing(comp, [(d, _points(d.accuracy, sign)) for d in won]))
    decided = [d for d in duels if d.accuracy.has_interval]
    unclear = [d for d in decided if d.accuracy_verdict == stats.NO_CLEAR]
    if unclear:
        out.append(f"no clear accuracy difference between {a} and {b} for {len(unclear)} of {len(decided)} "
                   + _noun(comp, decided, len(decided)))
    if decided and len(decided) < len(duels):  # all undecided: sentence() says it once
        k = len(duels) - len(decided)
        out.append(f"{stats.ONE_SEED} for {k} {a} vs {b} pair{'s' if k > 1 else ''}")
    return out


def speed_clauses(comp: Comparison, duels: list[Duel]) -> list[str]:
    """Whose step is slower where (asv's samples), how many pairs show no clear difference or are noisy."""
    duels = [d for d in duels if d.step is not None]
    if not duels:
        return []
    a, b = duels[0].names
    out = []
    for slower, faster in ((a, b), (b, a)):
        won = [d for d in duels if d.speed_verdict == f"{faster} faster"]
        if won:
            out.append(f"{slower}'s step is slower than {faster}'s "
                       + _listing(comp, [(d, _times(d.step, slower == a)) for d in won]))
    noun = _noun(comp, duels, len(duels))
    unclear = [d for d in duels if d.speed_verdict == stats.NO_CLEAR]
    if unclear:
        out.append(f"no clear step-time difference between {a} and {b} for {len(unclear)} of {len(duels)} {noun}")
    noisy = [d for d in duels if d.speed_verdict == stats.NOISY_VERDICT]
    if noisy:
        out.append(f"{a} vs {b} step times are noisy for {len(noisy)} of {len(duels)} {noun} (re-measure)")
    return out


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:]


def sentence(dataset: str, machine: str, device: str, duels: dict[str, list[Duel]]) -> str:
    """The verdicts of one machine and device: accuracy, then speed; "" when no pair decides anything."""
    accuracy = [c for comp in COMPARISONS for c in accuracy_clauses(comp, duels.get(comp.key, []))]
    speed = [c for comp in COMPARISONS for c in speed_clauses(comp, duels.get(comp.key, []))]
    intervals = [d.accuracy for ds in duels.values() for d in ds if d.accuracy is not None]
    if intervals and not any(i.has_interval for i in intervals):
        accuracy = [f"{stats.ONE_SEED}, so no accuracy verdict"]
    if not accuracy and not speed:
        return ""
    seeds = seeds_text(i.n for i in intervals)
    head = f"On {dataset} ({', '.join(p for p in (machine, device, seeds) if p)})"
    if not accuracy:
        return f"{head}: {'; '.join(speed)}."
    text = f"{head}: {'; '.join(accuracy)}."
    return text + (f" {_capital('; '.join(speed))}." if speed else "")


def sentences(dataset: str, rows: list[Row]) -> list[tuple[str, str, str]]:
    """(machine, device, sentence) for each machine and device of a dataset with a pair to judge."""
    groups: dict[tuple[str, str], dict[str, list[Duel]]] = defaultdict(lambda: defaultdict(list))
    for comp in COMPARISONS:
        for d in comp.pairs(rows):
            groups[(d.a.machine, d.a.device)][comp.key].append(d)
    out = []
    for (machine, device), duels in sorted(groups.items()):
        text = sentence(dataset, machine, device, duels)
        if text:
            out.append((machine, device, text))
    return out
