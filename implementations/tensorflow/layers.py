"""Keras 3 building blocks mirroring the PyTorch side: same structure, same attribute names.

``Block`` holds ``norm1``, ``attn`` (``qkv``, ``proj``), ``norm2`` and ``mlp`` (``fc1``,
``fc2``), exactly as ``timm.models.vision_transformer.Block`` does; ``ConvBlock``,
``GraphBlock`` and Keras' own ``LSTM`` mirror the other backbones (``blocks(...)``), so that
weights port between the frameworks by name.
"""

from __future__ import annotations

import keras
from keras import layers, ops

from tokfrag import backbones
from tokfrag.graph import gcn_normalized, grid_adjacency
from tokfrag.spec import EncoderConfig, PipelineSpec


class Attention(layers.Layer):
    """Multi-head self-attention with a fused qkv projection (timm's layout)."""

    def __init__(self, width: int, heads: int, **kwargs):
        super().__init__(**kwargs)
        self.width, self.heads = width, heads
        self.head_dim = width // heads
        self.scale = self.head_dim ** -0.5
        self.qkv = layers.Dense(3 * width, dtype=self.dtype_policy, name="qkv")
        self.proj = layers.Dense(width, dtype=self.dtype_policy, name="proj")

    def call(self, x):
        b, n = ops.shape(x)[0], ops.shape(x)[1]
        qkv = ops.reshape(self.qkv(x), (b, n, 3, self.heads, self.head_dim))
        qkv = ops.transpose(qkv, (2, 0, 3, 1, 4))  # (B, L, 3, H, Dh) -> (3, B, H, L, Dh)
        q, k, v = qkv[0], qkv[1], qkv[2]
        attn = ops.softmax(ops.matmul(q * self.scale, ops.transpose(k, (0, 1, 3, 2))), axis=-1)
        x = ops.matmul(attn, v)  # (B, H, L, Dh)
        x = ops.reshape(ops.transpose(x, (0, 2, 1, 3)), (b, n, self.width))  # -> (B, L, D)
        return self.proj(x)

    def get_config(self):
        return {**super().get_config(), "width": self.width, "heads": self.heads}


class Mlp(layers.Layer):
    """fc1 -> exact (erf) GELU -> fc2, as timm's Mlp with nn.GELU."""

    def __init__(self, width: int, hidden: int, **kwargs):
        super().__init__(**kwargs)
        self.width, self.hidden = width, hidden
        self.fc1 = layers.Dense(hidden, dtype=self.dtype_policy, name="fc1")
        self.fc2 = layers.Dense(width, dtype=self.dtype_policy, name="fc2")

    def call(self, x):
        # approximate=False: Keras defaults to the tanh approximation, torch's nn.GELU to erf.
        return self.fc2(keras.activations.gelu(self.fc1(x), approximate=False))

    def get_config(self):
        return {**super().get_config(), "width": self.width, "hidden": self.hidden}


class Block(layers.Layer):
    """Pre-norm Transformer block: x + attn(norm1(x)), then x + mlp(norm2(x))."""

    def __init__(self, width: int, heads: int, hidden: int, norm_eps: float, **kwargs):
        super().__init__(**kwargs)
        self.width, self.heads, self.hidden, self.norm_eps = width, heads, hidden, norm_eps
        p = self.dtype_policy
        self.norm1 = layers.LayerNormalization(epsilon=norm_eps, dtype=p, name="norm1")
        self.attn = Attention(width, heads, dtype=p, name="attn")
        self.norm2 = layers.LayerNormalization(epsilon=norm_eps, dtype=p, name="norm2")
        self.mlp = Mlp(width, hidden, dtype=p, name="mlp")

    def call(self, x):
        x = x + self.attn(self.norm1(x))
        return x + self.mlp(self.norm2(x))

    def get_config(self):
        return {**super().get_config(), "width": self.width, "heads": self.heads,
                "hidden": self.hidden, "norm_eps": self.norm_eps}


def block(cfg: EncoderConfig, **kwargs) -> Block:
    return Block(cfg.width, cfg.heads, cfg.mlp_hidden, cfg.norm_eps, **kwargs)


class ConvBlock(layers.Layer):
    """x + GELU(conv(norm(x))) over the unit grid (1-D, 2-D or 3-D), same padding."""

    def __init__(self, width: int, kernel: tuple, grid: tuple, norm_eps: float, **kwargs):
        super().__init__(**kwargs)
        self.width, self.kernel, self.grid, self.norm_eps = width, tuple(kernel), tuple(grid), norm_eps
        conv = {1: layers.Conv1D, 2: layers.Conv2D, 3: layers.Conv3D}[len(self.kernel)]
        self.norm = layers.LayerNormalization(epsilon=norm_eps, dtype=self.dtype_policy, name="norm")
        self.conv = conv(width, self.kernel, padding="same", dtype=self.dtype_policy, name="conv")

    def call(self, x):
        b = ops.shape(x)[0]
        y = ops.reshape(self.norm(x), (b, *self.grid, self.width))  # (B, L, D) -> (B, *grid, D)
        y = keras.activations.gelu(self.conv(y), approximate=False)
        return x + ops.reshape(y, (b, -1, self.width))  # -> (B, L, D)

    def get_config(self):
        return {**super().get_config(), "width": self.width, "kernel": self.kernel, "grid": self.grid,
                "norm_eps": self.norm_eps}


class GCNConv(layers.Layer):
    """Graph convolution on a fixed graph (Kipf & Welling): A_hat (x W) + b, with
    A_hat = D^-1/2 (A + I) D^-1/2, as PyTorch Geometric's DenseGCNConv (``lin``, ``bias``)."""

    def __init__(self, width: int, grid: tuple, **kwargs):
        super().__init__(**kwargs)
        self.width, self.grid = width, tuple(grid)
        self.lin = layers.Dense(width, use_bias=False, dtype=self.dtype_policy, name="lin")
        self.propagation = gcn_normalized(grid_adjacency(self.grid))  # numpy constant (L, L)

    def build(self, input_shape):
        self.bias = self.add_weight(shape=(self.width,), initializer="zeros", name="bias")

    def call(self, x):
        a = ops.cast(self.propagation, self.compute_dtype)
        return ops.einsum("ij,bjd->bid", a, self.lin(x)) + ops.cast(self.bias, self.compute_dtype)

    def get_config(self):
        return {**super().get_config(), "width": self.width, "grid": self.grid}


class GraphBlock(layers.Layer):
    """The transformer block with attention replaced by a graph convolution over the unit grid."""

    def __init__(self, width: int, hidden: int, grid: tuple, norm_eps: float, **kwargs):
        super().__init__(**kwargs)
        self.width, self.hidden, self.grid, self.norm_eps = width, hidden, tuple(grid), norm_eps
        p = self.dtype_policy
        self.norm1 = layers.LayerNormalization(epsilon=norm_eps, dtype=p, name="norm1")
        self.gcn = GCNConv(width, grid, dtype=p, name="gcn")
        self.norm2 = layers.LayerNormalization(epsilon=norm_eps, dtype=p, name="norm2")
        self.mlp = Mlp(width, hidden, dtype=p, name="mlp")

    def call(self, x):
        x = x + self.gcn(self.norm1(x))
        return x + self.mlp(self.norm2(x))

    def get_config(self):
        return {**super().get_config(), "width": self.width, "hidden": self.hidden, "grid": self.grid,
                "norm_eps": self.norm_eps}


# One builder per registered backbone (tokfrag.backbones): block ``index`` of the backbone, in the model's
# dtype policy, named ``blocks_<index>``; (B, L, D) -> (B, L, D).
@backbones.builder("transformer", "tensorflow")
def _transformer(spec: PipelineSpec, index: int, dtype) -> Block:
    return block(spec.encoder, dtype=dtype, name=f"blocks_{index}")


@backbones.builder("cnn", "tensorflow")
def _cnn(spec: PipelineSpec, index: int, dtype) -> ConvBlock:
    e = spec.encoder
    return ConvBlock(e.width, spec.backbone.kernel, spec.grid, e.norm_eps, dtype=dtype, name=f"blocks_{index}")


@backbones.builder("lstm", "tensorflow")
def _lstm(spec: PipelineSpec, index: int, dtype) -> layers.LSTM:
    # Keras' own LSTM: gates (input, forget, cell, output), one bias per gate, tanh / sigmoid as torch
    return layers.LSTM(spec.encoder.width, return_sequences=True, dtype=dtype, name=f"blocks_{index}")


@backbones.builder("gnn", "tensorflow")
def _gnn(spec: PipelineSpec, index: int, dtype) -> GraphBlock:
    e = spec.encoder
    return GraphBlock(e.width, e.mlp_hidden, spec.grid, e.norm_eps, dtype=dtype, name=f"blocks_{index}")


def blocks(spec: PipelineSpec, dtype) -> list:
    """The backbone's blocks, named ``blocks_i`` (attribute ``blocks[i]``): each maps (B, L, D) -> (B, L, D)."""
    return backbones.build(spec, "tensorflow", dtype=dtype)
