"""PyTorch fragmenter and tokenizer, with torch ops only (see tokfrag.reference for the rules)."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from tokfrag.spec import Windows


def windows(x: torch.Tensor, spec: Windows) -> torch.Tensor:
    """(N, *signal) -> (N, L, window cells), same dtype; zero padding at the end of each axis."""
    signal = tuple(x.shape[1:])
    padded = spec.padded(signal)
    pad = []
    for n, p in reversed(list(zip(signal, padded))):  # F.pad lists the last axis first
        pad += [0, p - n]
    if any(pad):
        x = F.pad(x, pad)
    for axis, (w, s) in enumerate(zip(spec.window, spec.stride), start=1):
        x = x.unfold(axis, w, s)  # appends the window axis: (N, g1, .., gr, w1, .., wr) at the end
    return x.reshape(x.shape[0], -1, spec.size)


def fragments(x: torch.Tensor, spec: Windows) -> torch.Tensor:
    """uint8 (N, *signal) -> float32 (N, L, cells) in [0, 1]."""
    return windows(x, spec).to(torch.float32) / 255.0


def tokens(x: torch.Tensor, spec: Windows, centroids: torch.Tensor) -> torch.Tensor:
    """uint8 (N, *signal) -> int64 (N, L): the nearest centroid, lowest index on ties.

    All terms are integers below 2**24, so the float32 distances are exact; ``argmin``
    returns the first minimum (documented), which is the lowest index.
    """
    u = windows(x, spec).to(torch.float32)  # (N, L, P), integer values
    c = centroids.to(torch.float32)  # (K, P), integer values
    d = (u * u).sum(-1, keepdim=True) - 2.0 * (u @ c.T) + (c * c).sum(-1)  # (N, L, K)
    return d.argmin(-1)
