"""The backbone registry: what mixes the embedded units, each backbone registered once, by name.

Every backbone keeps the units at the encoder's width between the shared embedding (fragment
projection or token table, plus the position table) and the shared end (LayerNorm, mean over the
units, linear head), so token against fragment stays apples to apples under each backbone. An entry
holds what the framework-neutral core needs: how the backbone is sized for a unit grid, how it reads
the unit sequence, its parameter table (canonical, PyTorch layout: ``tokfrag.params``), its FLOPs
per sample (``tokfrag.flops``) and any initial values of its own. Each framework registers one
builder per backbone (``builder``) in its ``layers.py``; a framework builds a model's blocks with
``build``. Everything else (the spec's ``registered()`` pipelines, parity, the FLOP check, the asv
parameter lists, the leaderboard's filters and plots) reads the names from here.

An unknown name is an error that lists the registered ones (``get``). A test can register a backbone
of its own, with its two builders, and remove it again (``unregister``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

from .errors import UnknownName

SpecLike = Any  # a tokfrag.spec.PipelineSpec (the spec imports this module, not the other way round)

DEFAULT = "transformer"  # the default suite's backbone: a pipeline under it carries no "+<backbone>"


@dataclass(frozen=True)
class Entry:
    """One backbone, as the core sees it.

    - ``size(grid_rank)``: ``(depth, kernel)`` for a unit grid of that many axes, sized so that the
      backbones of a dataset stay within 15% of each other in parameters (the Long Range Arena rule);
      ``depth`` None means the encoder's own depth (``EncoderConfig.depth``); ``kernel`` is () for a
      backbone that has none.
    - ``block_shapes(spec, prefix)``: one block's parameters, canonical name suffix -> shape.
    - ``flops(spec)``: one sample's forward FLOPs of all blocks, by kind of multiplication.
    - ``initial(name, shape, rng)``: the initial value of a block parameter that is not drawn the
      common way (truncated normal matrices, zero biases, unit norm scales), else None.
    - ``reads``: how the backbone reads the unit sequence, in words (the README, ``tokfrag info``).
    """

    name: str
    size: Callable[[int], tuple[int | None, tuple]]
    block_shapes: Callable[[SpecLike, str], dict[str, tuple]]
    flops: Callable[[SpecLike], dict[str, int]]
    reads: str
    initial: Callable[[str, tuple, np.random.Generator], np.ndarray | None] | None = None

    def depth(self, spec: SpecLike) -> int:
        """Blocks of ``spec``'s backbone: its own depth, or the encoder's."""
        return spec.encoder.depth if self.size(len(spec.grid))[0] is None else spec.backbone.depth

    def has_kernel(self, grid_rank: int = 1) -> bool:
        return bool(self.size(grid_rank)[1])


_ENTRIES: dict[str, Entry] = {}
_BUILDERS: dict[tuple[str, str], Callable] = {}


def register(entry: Entry) -> Entry:
    """Add ``entry``; a name registered twice is an error (one entry per backbone)."""
    if entry.name in _ENTRIES:
        raise ValueError(f"backbone {entry.name!r} is already registered")
    if not entry.name.isidentifier():  # it travels in pipeline names (<pipeline>+<backbone>) and asv params
        raise ValueError(f"backbone name {entry.name!r} must be an identifier")
    _ENTRIES[entry.name] = entry
    return entry


def unregister(name: str) -> None:
    """Remove a backbone and its builders (tests that register one of their own clean up with this)."""
    _ENTRIES.pop(name, None)
    for key in [k for k in _BUILDERS if k[0] == name]:
        del _BUILDERS[key]


def builder(name: str, framework: str) -> Callable[[Callable], Callable]:
    """Decorator: ``fn(spec, **kwargs)`` builds one block of backbone ``name`` in ``framework`` (each
    framework's ``layers.py`` registers its own; kwargs are the framework's, e.g. Keras' dtype and name)."""
    def add(fn: Callable) -> Callable:
        _BUILDERS[(name, framework)] = fn
        return fn
    return add


def names() -> tuple[str, ...]:
    """Every registered backbone, the default first, then in registration order."""
    return tuple(_ENTRIES)


def get(name: str) -> Entry:
    try:
        return _ENTRIES[name]
    except KeyError:
        raise UnknownName(f"unknown backbone {name!r}; registered backbones: {', '.join(_ENTRIES)}") from None


def build(spec: SpecLike, framework: str, **kwargs) -> list:
    """``spec``'s blocks in ``framework``: its backbone's builder called once per block, with the
    block's index as ``index`` (each maps (B, L, D) -> (B, L, D))."""
    entry = get(spec.backbone.name)
    fn = _BUILDERS.get((entry.name, framework))
    if fn is None:
        have = sorted(f for (n, f) in _BUILDERS if n == entry.name)
        raise UnknownName(f"backbone {entry.name!r} has no {framework} builder (it has: {', '.join(have) or 'none'}); "
                          f"register one with tokfrag.backbones.builder({entry.name!r}, {framework!r})")
    return [fn(spec, index=i, **kwargs) for i in range(entry.depth(spec))]


def sort_key(name: str) -> tuple:
    """Order for tables and legends: the default first, then by name (a name no longer registered too)."""
    return (name != DEFAULT, name)


# --- canonical parameter helpers (PyTorch layout: a Linear weight is (out, in)) ------------------

def norm(out: dict, prefix: str, d: int) -> None:
    out[prefix + ".weight"] = (d,)
    out[prefix + ".bias"] = (d,)


def linear(out: dict, prefix: str, d_in: int, d_out: int) -> None:
    out[prefix + ".weight"] = (d_out, d_in)
    out[prefix + ".bias"] = (d_out,)


def mlp(out: dict, prefix: str, d: int, hidden: int) -> None:
    """The transformer's MLP half of a block: norm2, fc1, fc2."""
    norm(out, prefix + "norm2", d)
    linear(out, prefix + "mlp.fc1", d, hidden)
    linear(out, prefix + "mlp.fc2", hidden, d)


def _mlp_flops(n: int, d: int, h: int) -> int:
    return 2 * (2 * n * d * h)  # fc1 and fc2


# --- the four backbones ------------------------------------------------------------------------
#
# Parameters of the mixing layers at width 64 (the shared embedding, final norm and head excluded):
# transformer 4 blocks 133,888; cnn 148,224 (2-D 3x3 x 4 blocks, 1-D kernel 9 x 4) or 147,840 (3-D
# 2x3x3 x 2: a 3x3x3 kernel gives 110,784 in one block, 17% under the transformer, or twice that in
# two); lstm 4 layers 132,096 (one trained bias per gate, as Keras has); gnn 7 blocks 146,944. The
# largest is 1.12x the smallest.

def _transformer_shapes(spec, p):
    d = spec.encoder.width
    out: dict[str, tuple] = {}
    norm(out, p + "norm1", d)
    linear(out, p + "attn.qkv", d, 3 * d)
    linear(out, p + "attn.proj", d, d)
    mlp(out, p, d, spec.encoder.mlp_hidden)
    return out


def _transformer_flops(spec):
    n, d, depth = spec.seq_len, spec.encoder.width, spec.encoder.depth
    return {"qkv": depth * 2 * n * d * 3 * d,
            "attention": depth * 2 * (2 * n * n * d),  # scores q k^T and weighted values, all heads
            "proj": depth * 2 * n * d * d,
            "mlp": depth * _mlp_flops(n, d, spec.encoder.mlp_hidden)}


register(Entry(
    name="transformer",
    size=lambda rank: (None, ()),
    block_shapes=_transformer_shapes,
    flops=_transformer_flops,
    reads="the units as a sequence, through the encoder's pre-norm ViT blocks (EncoderConfig), the default",
))


def _cnn_shapes(spec, p):
    d, b = spec.encoder.width, spec.backbone
    out: dict[str, tuple] = {}
    norm(out, p + "norm", d)
    out[p + "conv.weight"] = (d, d, *b.kernel)  # torch's (out, in, *kernel)
    out[p + "conv.bias"] = (d,)
    return out


register(Entry(
    name="cnn",
    size=lambda rank: {1: (4, (9,)), 2: (4, (3, 3)), 3: (2, (2, 3, 3))}[rank],
    block_shapes=_cnn_shapes,
    # a kernel's every tap at every unit (same padding counts the zeros, as torch does)
    flops=lambda spec: {"conv": spec.backbone.depth * 2 * spec.seq_len * spec.encoder.width ** 2
                        * math.prod(spec.backbone.kernel)},
    reads="the units laid out on their grid (h x w, t x h x w, or a line of text), through pre-norm residual "
          "convolutions x + GELU(conv(norm(x))) of rank 1, 2 or 3 with the spec's kernel, same padding",
))


def _lstm_shapes(spec, p):
    # torch's nn.LSTM names and gate order (input, forget, cell, output); its second bias (bias_hh) is
    # held at zero, so each gate has one trained bias, as in Keras
    d = spec.encoder.width
    return {p + "weight_ih_l0": (4 * d, d), p + "weight_hh_l0": (4 * d, d), p + "bias_ih_l0": (4 * d,)}


def _lstm_initial(name, shape, rng):
    if name.endswith("bias_ih_l0"):  # forget gate bias 1 (Jozefowicz et al., 2015), others 0
        value = np.zeros(shape)
        gate = shape[0] // 4
        value[gate:2 * gate] = 1.0
        return value
    if name.endswith(("weight_ih_l0", "weight_hh_l0")):  # torch's U(-1/sqrt(h), 1/sqrt(h))
        bound = 1.0 / np.sqrt(shape[0] // 4)
        return rng.uniform(-bound, bound, shape)
    return None


register(Entry(
    name="lstm",
    size=lambda rank: (4, ()),
    block_shapes=_lstm_shapes,
    # per unit, the input and recurrent projections onto 4 gates
    flops=lambda spec: {"lstm": spec.backbone.depth * 2 * spec.seq_len * 8 * spec.encoder.width ** 2},
    reads="the units in raster order through stacked unidirectional LSTM layers of the encoder's width (the "
          "state of each position is pooled; a single direction keeps the layer the one both frameworks ship)",
    initial=_lstm_initial,
))


def _gnn_shapes(spec, p):
    # PyTorch Geometric's DenseGCNConv names (lin without bias, then bias)
    d = spec.encoder.width
    out: dict[str, tuple] = {}
    norm(out, p + "norm1", d)
    out[p + "gcn.lin.weight"] = (d, d)
    out[p + "gcn.bias"] = (d,)
    mlp(out, p, d, spec.encoder.mlp_hidden)
    return out


def _gnn_flops(spec):
    # x W, then the (n x n) propagation matrix times the result, then the MLP
    n, d, depth = spec.seq_len, spec.encoder.width, spec.backbone.depth
    return {"gcn": depth * 2 * n * d * d,
            "aggregation": depth * 2 * n * n * d,
            "mlp": depth * _mlp_flops(n, d, spec.encoder.mlp_hidden)}


register(Entry(
    name="gnn",
    size=lambda rank: (7, ()),
    block_shapes=_gnn_shapes,
    flops=_gnn_flops,
    reads="the units as nodes of their grid graph (spatial neighbours; in video the temporal ones too; in text "
          "the chain) through pre-norm blocks whose token mixer is a GCN (self-loops, symmetric normalisation), "
          "each followed by the transformer's MLP",
))
