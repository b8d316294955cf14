"""The Keras model: embed (Dense or Embedding) + position table -> blocks -> norm -> mean -> head.

Parameters map to the canonical (PyTorch-layout) names of ``tokfrag.params`` mechanically:
the name is the attribute path (``blocks.0.attn.qkv``), and the layer *type* says how its
variables convert (Dense kernel (in, out) <-> Linear weight (out, in); LayerNormalization
gamma/beta <-> weight/bias; Embedding embeddings <-> weight). There is no per-layer table.
"""

from __future__ import annotations

import keras
import numpy as np
from keras import layers, ops

from tokfrag.spec import PipelineSpec

from .layers import block


class TokFragEncoder(keras.Model):
    def __init__(self, spec: PipelineSpec, **kwargs):
        super().__init__(**kwargs)
        e = spec.encoder
        p = self.dtype_policy
        if spec.representation == "fragment":
            self.embed = layers.Dense(e.width, dtype=p, name="embed")  # flattened window -> width
        else:
            self.embed = layers.Embedding(spec.input_dim, e.width, dtype=p, name="embed")  # id -> width
        self.pos_embed = self.add_weight(shape=(1, spec.seq_len, e.width), initializer="zeros", name="pos_embed")
        self.blocks = [block(e, dtype=p, name=f"blocks_{i}") for i in range(e.depth)]
        self.norm = layers.LayerNormalization(epsilon=e.norm_eps, dtype=p, name="norm")
        self.head = layers.Dense(spec.dataset.num_classes, dtype=p, name="head")
        self.spec = spec

    def call(self, x, training=False):
        x = self.embed(x) + ops.cast(self.pos_embed, self.compute_dtype)  # (B, L, P) or (B, L) ids -> (B, L, D)
        for blk in self.blocks:
            x = blk(x)
        x = ops.mean(self.norm(x), axis=1)  # (B, L, D) -> (B, D)
        return self.head(x)


# How each Keras layer type's variables map to canonical (name suffix, variable attribute, transpose).
_RULES = (
    (layers.Dense, (("weight", "kernel", True), ("bias", "bias", False))),
    (layers.LayerNormalization, (("weight", "gamma", False), ("bias", "beta", False))),
    (layers.Embedding, (("weight", "embeddings", False),)),
)


def variables(model: keras.Model) -> dict[str, tuple]:
    """Canonical name -> (Keras variable, transpose?), found by walking attribute names."""
    out: dict[str, tuple] = {}

    def walk(obj, prefix):
        for attr, value in vars(obj).items():
            if attr.startswith("_") or attr == "spec":
                continue
            path = prefix + attr
            for kind, rules in _RULES:
                if isinstance(value, kind):
                    for suffix, var, transpose in rules:
                        out[f"{path}.{suffix}"] = (getattr(value, var), transpose)
                    break
            else:
                if isinstance(value, layers.Layer):
                    walk(value, path + ".")
                elif isinstance(value, (list, tuple)) and value and all(isinstance(v, layers.Layer) for v in value):
                    for i, v in enumerate(value):
                        walk(v, f"{path}.{i}.")
                elif isinstance(value, keras.Variable):
                    out[path] = (value, False)

    walk(model, "")
    return out


def named_parameters(model: keras.Model) -> dict[str, np.ndarray]:
    """Canonical name -> float32 numpy value in canonical layout."""
    return {n: (np.asarray(v.numpy(), np.float32).T if t else np.asarray(v.numpy(), np.float32)).copy()
            for n, (v, t) in variables(model).items()}


def load_parameters(model: keras.Model, values: dict[str, np.ndarray]) -> None:
    """Set every variable from canonical values; names and shapes must match exactly."""
    own = variables(model)
    missing, extra = sorted(set(own) - set(values)), sorted(set(values) - set(own))
    if missing or extra:
        raise ValueError(f"parameter names differ: missing {missing}, unexpected {extra}")
    for name, (var, transpose) in own.items():
        v = np.asarray(values[name], np.float32)
        v = v.T if transpose else v
        if tuple(v.shape) != tuple(var.shape):
            raise ValueError(f"{name}: shape {tuple(values[name].shape)} does not fit {tuple(var.shape)}")
        var.assign(v)
