"""Cost scaling (``bench_perf.Scaling``): records whose parameters are exactly SCALING_PARAMS
become one ``ScalingPoint`` per machine x framework x representation x window, not rows.
"""

from __future__ import annotations

import re
from collections import defaultdict

from .aggregate import aggregate
from .board import ScalingPoint
from .columns import SCALING_COLUMNS, SCALING_MEMORY, SCALING_STEP, SCALING_UNITS

SCALING_PARAMS = ("framework", "representation", "window")
MAX_WINDOW = 100_000  # pixels: a larger window (or one that is not a whole number) is malformed


def is_scaling(names: list | None) -> bool:
    return names is not None and len(names) == len(SCALING_PARAMS) and set(names) == set(SCALING_PARAMS)


def window_pixels(value: str) -> int | None:
    """A window parameter (asv stores ``2``, or ``'2'`` if a suite passes strings) as pixels, or None."""
    text = str(value).strip()
    if not re.fullmatch(r"[0-9]{1,6}", text) or not 0 < int(text) <= MAX_WINDOW:
        return None
    return int(text)


def scaling_points(records: list) -> list[ScalingPoint]:
    """One point per machine x framework x representation x window of the scaling records."""
    by_point: dict[tuple, dict[str, list]] = defaultdict(lambda: defaultdict(list))
    for r in records:
        p = dict(r.params)
        by_point[(r.machine, p["framework"], p["representation"], int(p["window"]))][r.column.key].append(r)
    points = []
    for (machine, framework, representation, window), by_key in by_point.items():
        cells = {c.key: aggregate(by_key.get(c.key, [])) for c in SCALING_COLUMNS}
        value = {k: cell.mean if cell.usable else None for k, cell in cells.items()}
        units = value[SCALING_UNITS.key]
        points.append(ScalingPoint(machine, framework, representation, window,
                                   None if units is None else int(units), value[SCALING_STEP.key],
                                   value[SCALING_MEMORY.key], cells=cells))
    return sorted(points, key=lambda p: (p.framework, p.representation, p.machine, p.window))
