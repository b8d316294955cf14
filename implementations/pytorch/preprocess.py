"""PyTorch fragmenter and tokenizer, with torch ops only (see tokfrag.reference for the rules)."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from tokfrag.reference import distance_dtype
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

    All terms are integers below 2**24 (float64 for windows over 129 cells), so the
    distances are exact; ``argmin`` returns the first minimum (documented): the lowest index.
    """
    dtype = getattr(torch, distance_dtype(spec.size))
    u = windows(x, spec).to(dtype)  # (N, L, P), integer values
    c = centroids.to(dtype)  # (K, P), integer values
    d = (u * u).sum(-1, keepdim=True) - 2.0 * (u @ c.T) + (c * c).sum(-1)  # (N, L, K)
    return d.argmin(-1)


# --- text: torch has no string type, so bytes and words are cut on the host -------------

def text_bytes(texts, length: int) -> torch.Tensor:
    """(N, length) uint8: the first ``length`` UTF-8 bytes of each text, zero-padded."""
    out = torch.zeros((len(texts), length), dtype=torch.uint8)
    for i, t in enumerate(texts):
        b = t.encode("utf-8")[:length]
        if b:
            out[i, : len(b)] = torch.frombuffer(bytearray(b), dtype=torch.uint8)
    return out


def byte_fragments(b: torch.Tensor, spec: Windows) -> torch.Tensor:
    """uint8 bytes (N, length) -> float32 (N, L, w * 256): one-hot bytes, padding (0) all zeros."""
    ids = windows(b, spec).long()  # (N, L, w)
    onehot = torch.zeros(*ids.shape, 256, dtype=torch.float32, device=b.device)
    onehot.scatter_(-1, ids.unsqueeze(-1), 1.0)
    onehot[..., 0] = 0.0  # byte 0 is padding
    return onehot.reshape(b.shape[0], -1, spec.size * 256)


class WordTokenizer:
    """Hugging Face ``tokenizers`` configured to the reference's word rules: per-character
    lower case, ASCII punctuation deleted, whitespace split, id 0 padding, 1 unknown."""

    def __init__(self, vocabulary: list[str], max_len: int):
        from tokenizers import Regex, Tokenizer, models, normalizers, pre_tokenizers

        from tokfrag.reference import PUNCTUATION

        vocab = {"[PAD]": 0, "[UNK]": 1, **{w: i + 2 for i, w in enumerate(vocabulary)}}
        tok = Tokenizer(models.WordLevel(vocab=vocab, unk_token="[UNK]"))
        tok.normalizer = normalizers.Sequence([normalizers.Lowercase(), normalizers.Replace(Regex(PUNCTUATION), "")])
        tok.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
        tok.enable_truncation(max_length=max_len)
        tok.enable_padding(length=max_len, pad_id=0, pad_token="[PAD]")
        self.tokenizer = tok

    def __call__(self, texts) -> torch.Tensor:
        return torch.tensor([e.ids for e in self.tokenizer.encode_batch(list(texts))], dtype=torch.int64)
