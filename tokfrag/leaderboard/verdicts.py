"""How the page writes the numbers of a verdict: signed differences, ratios, seed counts.

The verdicts themselves are ``stats.verdict`` / ``stats.faster`` on a pair's interval
(``board.Duel``); ``view`` groups them into the answer grids and the short verdict rows. Only
what an interval supports is claimed: a side is better (or faster) only when the whole 95%
interval lies on its side. Plain text: ``render`` escapes it.
"""

from __future__ import annotations


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
