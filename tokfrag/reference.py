"""Numpy reference of every fragmenter and tokenizer: the ground truth both frameworks match.

Conventions that both implementations follow, and that the parity checks pin down:

* Samples are ``uint8`` arrays; a signal of rank r (2 for an image, 3 for a clip) is cut
  into windows along its r axes, zero-padded at the end of each axis (``Windows.padded``).
* Windows are ordered row-major over the grid, and the cells of a window row-major too
  (for a 2-D image this is ``torch.nn.functional.unfold`` and ``tf.image.extract_patches``).
* Fragments are ``float32`` cell values divided by 255 (a division, not a multiplication
  by 1/255, so that all three implementations round identically).
* Token ids are the nearest codebook centroid by squared Euclidean distance on the raw
  0-255 cell values. Centroids are stored rounded to integers, so for windows of up to 129
  cells every term of ``|u|^2 - 2 u.c + |c|^2`` and every partial sum is an integer of
  magnitude below 2**24: float32 computes the distance *exactly*, in any summation order.
  Larger windows (video tubelets) compute it in float64, exact up to 2**53. Exact ties are
  real (two centroids at the same distance) and are broken by the rule **lowest centroid
  index wins**.
* Text fragments are the first ``L * w`` UTF-8 bytes, zero-padded, cut into windows of ``w``
  bytes, each byte one-hot encoded over 256 values with byte 0 (padding) as all zeros:
  (N, L, w * 256) float32.
* Text tokens are words: lower-cased character by character, ASCII punctuation deleted,
  split on whitespace; id 0 pads, id 1 is out of vocabulary, ids 2.. are the vocabulary in
  order (most frequent training word first); the first ``max_len`` words are kept.
"""

from __future__ import annotations

import re
from collections import Counter

import numpy as np

from .spec import Codebook, PipelineSpec, Vocabulary, Windows

# Largest window (in cells) whose expanded squared distances stay exact in float32:
# |u|^2 - 2 u.c reaches 2 * cells * 255**2 in magnitude, which must stay below 2**24.
MAX_EXACT_WINDOW = (2**24) // (2 * 255**2)


def windows(x: np.ndarray, spec: Windows) -> np.ndarray:
    """Cut ``x`` of shape (N, *signal) into (N, L, window cells), keeping its dtype."""
    rank = len(spec.window)
    signal = x.shape[1:]
    if len(signal) != rank:
        raise ValueError(f"samples of shape {signal} do not match {rank}-d windows {spec.window}")
    padded = spec.padded(signal)
    pad = [(0, 0)] + [(0, p - n) for p, n in zip(padded, signal)]
    if any(p[1] for p in pad):
        x = np.pad(x, pad)
    axes = tuple(range(1, rank + 1))
    view = np.lib.stride_tricks.sliding_window_view(x, spec.window, axis=axes)
    view = view[(slice(None),) + tuple(slice(None, None, s) for s in spec.stride)]
    n = x.shape[0]
    return view.reshape(n, -1, spec.size)


def fragments(x: np.ndarray, spec: Windows) -> np.ndarray:
    """(N, *signal) uint8 -> (N, L, cells) float32 in [0, 1]."""
    return windows(x, spec).astype(np.float32) / np.float32(255)


def nearest(units: np.ndarray, centroids: np.ndarray, chunk: int = 65536) -> np.ndarray:
    """Index of the nearest centroid for each row of ``units`` (lowest index on ties).

    ``units`` (M, P) and ``centroids`` (K, P) hold integers 0-255; the arithmetic is int64,
    hence exact.
    """
    c = centroids.astype(np.int64)
    c2 = (c * c).sum(1)
    out = np.empty(units.shape[0], dtype=np.int64)
    for i in range(0, units.shape[0], chunk):
        u = units[i : i + chunk].astype(np.int64)
        d = (u * u).sum(1, keepdims=True) - 2 * u @ c.T + c2  # (m, K) exact squared distances
        out[i : i + chunk] = d.argmin(1)  # numpy returns the first minimum: lowest index wins
    return out


def tokens(x: np.ndarray, spec: Windows, centroids: np.ndarray) -> np.ndarray:
    """(N, *signal) uint8 -> (N, L) int64 token ids."""
    w = windows(x, spec)
    n, length, cells = w.shape
    return nearest(w.reshape(-1, cells), centroids).reshape(n, length)


def distance_dtype(cells: int) -> str:
    """The float type in which a framework's expanded squared distances over windows of
    ``cells`` cells are exact: "float32" up to MAX_EXACT_WINDOW cells, else "float64"."""
    return "float32" if cells <= MAX_EXACT_WINDOW else "float64"


# --- text -----------------------------------------------------------------------------

PUNCTUATION = r"""[!"#$%&'()*+,\-./:;<=>?@\[\\\]^_`{|}~]"""  # ASCII punctuation, as a regex class


def standardize(text: str) -> str:
    """Lower-case each character on its own (no context rules), then delete ASCII punctuation."""
    return re.sub(PUNCTUATION, "", "".join(c.lower() for c in text))


def words(text: str) -> list[str]:
    return standardize(text).split()


def build_vocabulary(texts, vocab: Vocabulary) -> list[str]:
    """The most frequent training words (count >= min_count), ties by word, at most size - 2."""
    counts = Counter(w for t in texts for w in words(t))
    ranked = sorted((w for w, c in counts.items() if c >= vocab.min_count), key=lambda w: (-counts[w], w))
    return ranked[: vocab.words]


def word_ids(texts, vocabulary: list[str], max_len: int) -> np.ndarray:
    """(N, max_len) int64 ids: 0 padding, 1 out of vocabulary, 2 + rank for a known word."""
    index = {w: i + 2 for i, w in enumerate(vocabulary)}
    out = np.zeros((len(texts), max_len), dtype=np.int64)
    for i, t in enumerate(texts):
        ids = [index.get(w, 1) for w in words(t)[:max_len]]
        out[i, : len(ids)] = ids
    return out


def text_bytes(texts, length: int) -> np.ndarray:
    """(N, length) uint8: the first ``length`` UTF-8 bytes of each text, zero-padded."""
    out = np.zeros((len(texts), length), dtype=np.uint8)
    for i, t in enumerate(texts):
        b = t.encode("utf-8")[:length]
        out[i, : len(b)] = np.frombuffer(b, dtype=np.uint8)
    return out


def byte_fragments(texts, spec: Windows, length: int) -> np.ndarray:
    """(N, L, w * 256) float32 one-hot bytes per window; byte 0 (padding) is all zeros."""
    b = windows(text_bytes(texts, length), spec).astype(np.int64)  # (N, L, w)
    n, units, w = b.shape
    out = np.zeros((n, units, w, 256), dtype=np.float32)
    np.put_along_axis(out, b[..., None], 1.0, axis=-1)
    out[..., 0] = 0.0
    return out.reshape(n, units, w * 256)


def preprocess(spec: PipelineSpec, x: np.ndarray, codebook=None) -> np.ndarray:
    """The model input of ``spec`` for samples ``x``: fragments or token ids (``spec.preprocessing``).

    ``codebook`` is the k-means centroids (signals) or the vocabulary (words) of a token pipeline.
    """
    kind = spec.preprocessing
    if kind == "byte_fragments":
        return byte_fragments(x, spec.windows, spec.dataset.signal_shape[0])
    if kind == "fragments":
        return fragments(x, spec.windows)
    if codebook is None:
        raise ValueError(f"{spec.name} needs its codebook")
    if kind == "word_ids":
        return word_ids(x, codebook, spec.codebook.max_len)
    return tokens(x, spec.windows, codebook)


def fit_codebook(train_x: np.ndarray, windows_spec: Windows, codebook: Codebook, seed: int,
                 progress=None) -> np.ndarray:
    """k-means (k-means++ seeding, Lloyd iterations) on windows of the *training* samples.

    Returns (K, cells) uint8 centroids, rounded to integers (see the module docstring).
    ``progress``, if given, is called once per finished Lloyd iteration.
    """
    rng = np.random.default_rng(seed)
    w = windows(train_x, windows_spec).reshape(-1, windows_spec.size)
    if len(w) > codebook.sample:
        w = w[rng.choice(len(w), codebook.sample, replace=False)]
    data = w.astype(np.float64)
    k = codebook.size
    if len(data) < k:
        raise ValueError(f"only {len(data)} training windows for a codebook of {k} centroids")
    # k-means++ seeding
    centers = np.empty((k, data.shape[1]))
    centers[0] = data[rng.integers(len(data))]
    d2 = ((data - centers[0]) ** 2).sum(1)
    for j in range(1, k):
        total = d2.sum()
        idx = rng.choice(len(data), p=d2 / total) if total > 0 else rng.integers(len(data))
        centers[j] = data[idx]
        d2 = np.minimum(d2, ((data - centers[j]) ** 2).sum(1))
    x2 = (data**2).sum(1, keepdims=True)
    for _ in range(codebook.iterations):
        dist = x2 - 2 * data @ centers.T + (centers**2).sum(1)
        assign = dist.argmin(1)
        counts = np.bincount(assign, minlength=k)
        sums = np.zeros_like(centers)
        np.add.at(sums, assign, data)
        empty = counts == 0
        centers[~empty] = sums[~empty] / counts[~empty, None]
        if empty.any():  # re-seed empty clusters on the points farthest from their centre
            far = np.argsort(dist[np.arange(len(data)), assign])[::-1][: empty.sum()]
            centers[empty] = data[far]
        if progress is not None:
            progress()
    return np.clip(np.rint(centers), 0, 255).astype(np.uint8)
