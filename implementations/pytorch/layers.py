"""PyTorch building blocks: timm's ViT block, configured from the shared spec."""

from __future__ import annotations

from functools import partial

from timm.models.vision_transformer import Block
from torch import nn

from tokfrag.spec import EncoderConfig


def block(cfg: EncoderConfig) -> Block:
    """One pre-norm block: x + attn(norm1(x)), then x + mlp(norm2(x)) (exact-erf GELU)."""
    return Block(
        dim=cfg.width,
        num_heads=cfg.heads,
        mlp_ratio=cfg.mlp_ratio,
        qkv_bias=True,
        norm_layer=partial(nn.LayerNorm, eps=cfg.norm_eps),
        act_layer=nn.GELU,
    )
