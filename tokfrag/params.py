"""The canonical parameter table of a pipeline's model, and its seeded initial values.

Both frameworks build models whose parameters carry exactly these names and, in this
canonical (PyTorch) layout, exactly these shapes: a Linear weight is (out, in), an Embedding
table (vocabulary, width), a LayerNorm weight and bias (width,). The TensorFlow side stores a
Dense kernel as (in, out) and converts by layer type (``implementations.tensorflow.model``),
never by a per-layer renaming table.

Both frameworks start from the same initial values, drawn here with numpy from the seed,
so that the two columns of the leaderboard train the same network from the same point.
"""

from __future__ import annotations

import numpy as np

from .spec import PipelineSpec

INIT_STD = 0.02  # ViT / timm: truncated normal, std 0.02, for every matrix and the position table


def _norm(out: dict, prefix: str, d: int) -> None:
    out[prefix + ".weight"] = (d,)
    out[prefix + ".bias"] = (d,)


def _linear(out: dict, prefix: str, d_in: int, d_out: int) -> None:
    out[prefix + ".weight"] = (d_out, d_in)  # torch's (out, in)
    out[prefix + ".bias"] = (d_out,)


def block_shapes(spec: PipelineSpec) -> dict[str, tuple]:
    """The backbone's parameters (``blocks.*``), in model order: what a backbone adds to the shared ends."""
    e, b = spec.encoder, spec.backbone
    d, h = e.width, e.mlp_hidden
    out: dict[str, tuple] = {}
    depth = e.depth if b.name == "transformer" else b.depth
    for i in range(depth):
        p = f"blocks.{i}."
        if b.name == "transformer":
            _norm(out, p + "norm1", d)
            _linear(out, p + "attn.qkv", d, 3 * d)
            _linear(out, p + "attn.proj", d, d)
        elif b.name == "cnn":
            _norm(out, p + "norm", d)
            out[p + "conv.weight"] = (d, d, *b.kernel)  # torch's (out, in, *kernel)
            out[p + "conv.bias"] = (d,)
            continue
        elif b.name == "lstm":
            # torch's nn.LSTM names and gate order (input, forget, cell, output); its second
            # bias (bias_hh) is held at zero, so each gate has one trained bias, as in Keras
            out[p + "weight_ih_l0"] = (4 * d, d)
            out[p + "weight_hh_l0"] = (4 * d, d)
            out[p + "bias_ih_l0"] = (4 * d,)
            continue
        else:  # gnn: PyTorch Geometric's DenseGCNConv names (lin without bias, then bias)
            _norm(out, p + "norm1", d)
            out[p + "gcn.lin.weight"] = (d, d)
            out[p + "gcn.bias"] = (d,)
        _norm(out, p + "norm2", d)
        _linear(out, p + "mlp.fc1", d, h)
        _linear(out, p + "mlp.fc2", h, d)
    return out


def shapes(spec: PipelineSpec) -> dict[str, tuple]:
    """Parameter name -> canonical shape, in model order."""
    d = spec.encoder.width
    out: dict[str, tuple] = {}
    if spec.representation == "fragment":
        out["embed.weight"] = (d, spec.input_dim)  # Linear: flattened window -> width
        out["embed.bias"] = (d,)
    else:
        out["embed.weight"] = (spec.input_dim, d)  # Embedding: token id -> width
    out["pos_embed"] = (1, spec.seq_len, d)
    out.update(block_shapes(spec))
    out["norm.weight"] = (d,)
    out["norm.bias"] = (d,)
    out["head.weight"] = (spec.dataset.num_classes, d)
    out["head.bias"] = (spec.dataset.num_classes,)
    return out


def count(spec: PipelineSpec) -> int:
    return int(sum(np.prod(s) for s in shapes(spec).values()))


def decays(name: str, shape: tuple) -> bool:
    """AdamW weight decay applies to matrices only, not to biases, norms or position table."""
    return len(shape) >= 2 and name != "pos_embed"


def _trunc_normal(rng: np.random.Generator, shape: tuple, std: float) -> np.ndarray:
    x = rng.standard_normal(shape)
    bad = np.abs(x) > 2
    while bad.any():  # resample outside +-2 std, as torch.nn.init.trunc_normal_ does
        x[bad] = rng.standard_normal(bad.sum())
        bad = np.abs(x) > 2
    return x * std


def initial(spec: PipelineSpec, seed: int | None = None) -> dict[str, np.ndarray]:
    """Seeded float32 initial values for every parameter, in canonical layout."""
    rng = np.random.default_rng(spec.train.seed if seed is None else seed)
    out = {}
    for name, shape in shapes(spec).items():
        if name.endswith(".bias"):
            value = np.zeros(shape)
        elif name.endswith(".weight") and name.split(".")[-2].startswith("norm"):  # LayerNorm scale
            value = np.ones(shape)
        elif name.endswith("bias_ih_l0"):  # LSTM: forget gate bias 1 (Jozefowicz et al., 2015), others 0
            value = np.zeros(shape)
            gate = shape[0] // 4
            value[gate:2 * gate] = 1.0
        elif name.endswith(("weight_ih_l0", "weight_hh_l0")):  # LSTM: torch's U(-1/sqrt(h), 1/sqrt(h))
            bound = 1.0 / np.sqrt(shape[0] // 4)
            value = rng.uniform(-bound, bound, shape)
        else:
            value = _trunc_normal(rng, shape, INIT_STD)
        out[name] = value.astype(np.float32)
    return out
