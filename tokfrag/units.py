"""How numbers with units are written: the one place for seconds, bytes, counts and percentages.

Two styles, both here: the leaderboard's cells (``seconds``, ``memory``, ``count``, ``percent``:
3 significant digits, ``µs``) and the regression gate's plain-text table (``human``: ASCII
units down to ``ns``, 4 significant digits for bytes, ``failed`` / ``n/a`` for a null / NaN).
"""

from __future__ import annotations

import math


def seconds(v: float) -> str:
    if v < 1e-3:
        return f"{v * 1e6:.3g} µs"
    if v < 1:
        return f"{v * 1e3:.3g} ms"
    return f"{v:.3g} s"


def memory(v: float) -> str:
    for unit, size in (("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
        if v >= size:
            x = v / size
            return f"{x:.3g} {unit}" if x < 1000 else f"{x:.0f} {unit}"  # 1021 MiB, not 1.02e+03 MiB
    return f"{v:.0f} B"


def count(v: float) -> str:
    for unit, size in (("G", 1e9), ("M", 1e6), ("k", 1e3)):
        if v >= size:
            return f"{v / size:.3g}{unit}"
    return f"{v:.0f}"


def percent(v: float) -> str:
    return f"{v:.2f}"


def human(v, unit: str) -> str:
    if v is None:
        return "failed"
    if isinstance(v, float) and math.isnan(v):
        return "n/a"
    if not isinstance(v, (int, float)):
        return str(v)
    if unit == "seconds":
        for scale, suffix in ((1, "s"), (1e-3, "ms"), (1e-6, "us"), (1e-9, "ns")):
            if abs(v) >= scale or scale == 1e-9:
                return f"{v / scale:.3g} {suffix}"
    if unit == "bytes":
        for scale, suffix in ((2**30, "GiB"), (2**20, "MiB"), (2**10, "KiB")):
            if abs(v) >= scale:
                return f"{v / scale:.4g} {suffix}"
        return f"{v:.0f} B"
    if unit == "%":
        return f"{v:.2f}%"
    return f"{v:.4g} {unit}".rstrip()
