"""Training-time augmentation in numpy, so that both frameworks receive the very same arrays."""

from __future__ import annotations

import numpy as np


def shift(x: np.ndarray, rng: np.random.Generator, max_shift: int) -> np.ndarray:
    """Translate each sample by a random whole number of cells, up to ``max_shift`` along each
    of its last two (spatial) axes, filling with zeros: the classic MNIST augmentation. A clip
    (N, T, H, W) moves as a whole, so its motion is unchanged."""
    if max_shift <= 0:
        return x
    n, h, w = x.shape[0], x.shape[-2], x.shape[-1]
    m = max_shift
    dy = rng.integers(-m, m + 1, n)
    dx = rng.integers(-m, m + 1, n)
    padded = np.pad(x, [(0, 0)] * (x.ndim - 2) + [(m, m), (m, m)])
    rows = (m - dy)[:, None] + np.arange(h)  # (N, H): source row of each output row
    cols = (m - dx)[:, None] + np.arange(w)  # (N, W)
    idx = np.arange(n).reshape((n,) + (1,) * (x.ndim - 1))
    lead = tuple(np.arange(s).reshape((1, s) + (1,) * (x.ndim - 2)) for s in x.shape[1:-2])
    r = rows.reshape((n,) + (1,) * (x.ndim - 3) + (h, 1))
    c = cols.reshape((n,) + (1,) * (x.ndim - 3) + (1, w))
    return padded[(idx,) + lead + (r, c)]
