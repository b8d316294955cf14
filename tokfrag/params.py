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

from . import backbones
from .spec import PipelineSpec

INIT_STD = 0.02  # ViT / timm: truncated normal, std 0.02, for every matrix and the position table


def block_shapes(spec: PipelineSpec) -> dict[str, tuple]:
    """The backbone's parameters (``blocks.*``), in model order: what a backbone adds to the shared ends
    (each registered backbone's ``block_shapes``, ``tokfrag.backbones``)."""
    entry = backbones.get(spec.backbone.name)
    out: dict[str, tuple] = {}
    for i in range(entry.depth(spec)):
        out.update(entry.block_shapes(spec, f"blocks.{i}."))
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
        elif name.startswith("blocks.") and (own := _own_initial(spec, name, shape, rng)) is not None:
            value = own  # a backbone's values of its own (the lstm's gates)
        else:
            value = _trunc_normal(rng, shape, INIT_STD)
        out[name] = value.astype(np.float32)
    return out


def _own_initial(spec: PipelineSpec, name: str, shape: tuple, rng: np.random.Generator) -> np.ndarray | None:
    initial = backbones.get(spec.backbone.name).initial
    return None if initial is None else initial(name, shape, rng)
