"""The grid graph of a pipeline's units, for the ``gnn`` backbone (framework-neutral, numpy).

Units sit on their grid in raster order (``spec.grid``: (h, w) for an image, (t, h, w) for a
clip, (n,) for text). Two units are neighbours when they differ by one step along one axis:
4 neighbours in an image, 6 in a clip (the same place in the adjacent tubelets of time, and
the spatial ones), 2 along a text (the chain).
"""

from __future__ import annotations

import itertools

import numpy as np


def grid_adjacency(grid: tuple) -> np.ndarray:
    """(L, L) float32 0/1 adjacency of the grid graph, L = prod(grid), no self-loops."""
    index = np.arange(int(np.prod(grid))).reshape(grid)
    adj = np.zeros((index.size, index.size), np.float32)
    for axis in range(len(grid)):
        a = np.moveaxis(index, axis, 0)
        src, dst = a[:-1].ravel(), a[1:].ravel()
        adj[src, dst] = adj[dst, src] = 1.0
    return adj


def gcn_normalized(adj: np.ndarray) -> np.ndarray:
    """Kipf & Welling's propagation matrix D^-1/2 (A + I) D^-1/2 (float32)."""
    a = adj + np.eye(len(adj), dtype=adj.dtype)
    d = 1.0 / np.sqrt(a.sum(axis=1))
    return (a * d[:, None] * d[None, :]).astype(np.float32)


def neighbours(grid: tuple) -> list[tuple]:
    """Every edge (i < j) of the grid graph: for tests and documentation."""
    adj = grid_adjacency(grid)
    return [(i, j) for i, j in itertools.combinations(range(len(adj)), 2) if adj[i, j]]
