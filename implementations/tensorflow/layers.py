"""Keras 3 building blocks mirroring timm's ViT block: same structure, same attribute names.

``Block`` holds ``norm1``, ``attn`` (``qkv``, ``proj``), ``norm2`` and ``mlp`` (``fc1``,
``fc2``), exactly as ``timm.models.vision_transformer.Block`` does, so that weights port
between the frameworks by name.
"""

from __future__ import annotations

import keras
from keras import layers, ops

from tokfrag.spec import EncoderConfig


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
