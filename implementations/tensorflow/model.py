"""The Keras model: embed (Dense or Embedding) + position table -> blocks -> norm -> mean -> head.

Parameters map to the canonical (PyTorch-layout) names of ``tokfrag.params`` mechanically:
the name is the attribute path (``blocks.0.attn.qkv``), and the layer *type* says how its
variables convert (Dense kernel (in, out) <-> Linear weight (out, in); LayerNormalization
gamma/beta <-> weight/bias; Embedding embeddings <-> weight; ConvND kernel (*k, in, out) <->
ConvNd weight (out, in, *k); LSTM kernel / recurrent kernel (in, 4h) <-> weight_ih / weight_hh
(4h, in), gate blocks reordered from Keras' order to torch's, one bias <-> bias_ih). There is
no per-layer table.
"""

from __future__ import annotations

import keras
import numpy as np
from keras import layers, ops

from tokfrag.spec import PipelineSpec

from .layers import blocks


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
        self.blocks = blocks(spec, p)  # the backbone: (B, L, D) -> (B, L, D)
        self.norm = layers.LayerNormalization(epsilon=e.norm_eps, dtype=p, name="norm")
        self.head = layers.Dense(spec.dataset.num_classes, dtype=p, name="head")
        self.spec = spec

    def call(self, x, training=False):
        x = self.embed(x) + ops.cast(self.pos_embed, self.compute_dtype)  # (B, L, P) or (B, L) ids -> (B, L, D)
        for blk in self.blocks:
            x = blk(x)
        x = ops.mean(self.norm(x), axis=1)  # (B, L, D) -> (B, D)
        return self.head(x)


class Layout:
    """How one Keras variable converts to its canonical (torch) layout and back."""

    def __init__(self, to_canonical=None, from_canonical=None):
        self._to, self._from = to_canonical, from_canonical

    def to_canonical(self, value: np.ndarray) -> np.ndarray:
        return self._to(value) if self._to else value

    def from_canonical(self, value: np.ndarray) -> np.ndarray:
        return self._from(value) if self._from else value


SAME = Layout()
TRANSPOSE = Layout(np.transpose, np.transpose)


def _conv(rank: int) -> Layout:
    """ConvND kernel (*k, in, out) <-> torch ConvNd weight (out, in, *k)."""
    to = (rank + 1, rank, *range(rank))
    back = (*range(2, rank + 2), 1, 0)
    return Layout(lambda v: np.transpose(v, to), lambda v: np.transpose(v, back))


# The gate blocks of an LSTM's stacked matrices, in each framework's order (the same four
# gates: Keras calls torch's "g" gate "c"). The port maps them by meaning, not by position.
TORCH_GATES = ("input", "forget", "cell", "output")
KERAS_GATES = ("input", "forget", "cell", "output")


def _gates(value: np.ndarray, source: tuple, target: tuple, axis: int) -> np.ndarray:
    parts = np.split(value, 4, axis=axis)
    return np.concatenate([parts[source.index(g)] for g in target], axis=axis)


def _lstm_matrix() -> Layout:
    """Keras kernel (in, 4h), gates in Keras' order <-> torch weight (4h, in), gates in torch's."""
    return Layout(lambda v: _gates(v, KERAS_GATES, TORCH_GATES, axis=1).T,
                  lambda v: _gates(v.T, TORCH_GATES, KERAS_GATES, axis=1))


def _lstm_bias() -> Layout:
    return Layout(lambda v: _gates(v, KERAS_GATES, TORCH_GATES, axis=0),
                  lambda v: _gates(v, TORCH_GATES, KERAS_GATES, axis=0))


# How each Keras layer type's variables map to canonical (name suffix, variable path, layout).
# Layouts are built when used, so that a test can change the gate orders above.
_RULES = (
    (layers.Dense, lambda layer: (("weight", "kernel", TRANSPOSE), ("bias", "bias", SAME))),
    (layers.LayerNormalization, lambda layer: (("weight", "gamma", SAME), ("bias", "beta", SAME))),
    (layers.Embedding, lambda layer: (("weight", "embeddings", SAME),)),
    (layers.LSTM, lambda layer: (("weight_ih_l0", "cell.kernel", _lstm_matrix()),
                                 ("weight_hh_l0", "cell.recurrent_kernel", _lstm_matrix()),
                                 ("bias_ih_l0", "cell.bias", _lstm_bias()))),
    ((layers.Conv1D, layers.Conv2D, layers.Conv3D),
     lambda layer: (("weight", "kernel", _conv(layer.rank)), ("bias", "bias", SAME))),
)


def _attr(obj, path: str):
    for part in path.split("."):
        obj = getattr(obj, part)
    return obj


def variables(model: keras.Model) -> dict[str, tuple]:
    """Canonical name -> (Keras variable, Layout), found by walking attribute names."""
    out: dict[str, tuple] = {}

    def visit(value, path):
        for kind, rules in _RULES:
            if isinstance(value, kind):
                for suffix, var, layout in rules(value):
                    variable = _attr(value, var)
                    if variable is not None:  # a Dense without bias has none
                        out[f"{path}.{suffix}"] = (variable, layout)
                return
        if isinstance(value, layers.Layer):
            walk(value, path + ".")
        elif isinstance(value, (list, tuple)) and value and all(isinstance(v, layers.Layer) for v in value):
            for i, v in enumerate(value):
                visit(v, f"{path}.{i}")
        elif isinstance(value, keras.Variable):
            out[path] = (value, SAME)

    def walk(obj, prefix):
        for attr, value in vars(obj).items():
            if not attr.startswith("_") and attr != "spec":
                visit(value, prefix + attr)

    walk(model, "")
    return out


def named_parameters(model: keras.Model) -> dict[str, np.ndarray]:
    """Canonical name -> float32 numpy value in canonical layout."""
    return {n: np.array(layout.to_canonical(np.asarray(v.numpy(), np.float32)), np.float32)
            for n, (v, layout) in variables(model).items()}


def load_parameters(model: keras.Model, values: dict[str, np.ndarray]) -> None:
    """Set every variable from canonical values; names and shapes must match exactly."""
    own = variables(model)
    missing, extra = sorted(set(own) - set(values)), sorted(set(values) - set(own))
    if missing or extra:
        raise ValueError(f"parameter names differ: missing {missing}, unexpected {extra}")
    for name, (var, layout) in own.items():
        v = layout.from_canonical(np.asarray(values[name], np.float32))
        if tuple(v.shape) != tuple(var.shape):
            raise ValueError(f"{name}: shape {tuple(values[name].shape)} does not fit {tuple(var.shape)}")
        var.assign(v)
