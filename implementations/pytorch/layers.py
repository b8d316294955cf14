"""PyTorch building blocks, configured from the shared spec: timm's ViT block for the
transformer; convolution, LSTM and graph-convolution blocks for the other backbones.

Library choices: timm's ``Block`` and ``Mlp``; torch's own ``Conv1d/2d/3d`` (timm's conv
helpers are 2-D only, and the cnn backbone needs all three ranks); torch's ``nn.LSTM``;
PyTorch Geometric's ``DenseGCNConv`` (a dense, batched GCN: on grids of 16 to 64 nodes one
matmul by the normalised adjacency beats scattering messages along edges).
"""

from __future__ import annotations

import warnings
from functools import partial

import torch
from timm.layers import Mlp
from timm.models.vision_transformer import Block
from torch import nn
from torch.nn import functional as F

from tokfrag import backbones
from tokfrag.graph import grid_adjacency
from tokfrag.spec import EncoderConfig, PipelineSpec


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


class ConvBlock(nn.Module):
    """x + GELU(conv(norm(x))) over the unit grid (1-D, 2-D or 3-D), same padding."""

    def __init__(self, width: int, kernel: tuple, grid: tuple, norm_eps: float):
        super().__init__()
        self.grid = tuple(grid)
        conv = {1: nn.Conv1d, 2: nn.Conv2d, 3: nn.Conv3d}[len(kernel)]
        self.norm = nn.LayerNorm(width, eps=norm_eps)
        self.conv = conv(width, width, tuple(kernel), padding="same")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, _, d = x.shape
        y = self.norm(x).transpose(1, 2).reshape(b, d, *self.grid)  # (B, L, D) -> (B, D, *grid)
        y = F.gelu(self.conv(y)).flatten(2).transpose(1, 2)  # -> (B, L, D)
        return x + y


class LSTMLayer(nn.LSTM):
    """One unidirectional LSTM layer, (B, L, D) -> (B, L, D) (the hidden state at every position).

    torch's LSTM has two biases per gate (``bias_ih``, ``bias_hh``) where Keras has one. Both
    would receive the same gradient, so two trained biases would move twice as fast under AdamW
    as Keras' one: ``bias_hh_l0`` is held at zero here (a buffer), and ``bias_ih_l0`` is the
    gate's one bias.
    """

    def __init__(self, width: int):
        super().__init__(width, width, batch_first=True)
        del self._parameters["bias_hh_l0"]
        self.register_buffer("bias_hh_l0", torch.zeros(4 * width))
        self._init_flat_weights()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return super().forward(x)[0]


class GraphBlock(nn.Module):
    """The transformer block with attention replaced by a graph convolution over the unit grid."""

    def __init__(self, cfg: EncoderConfig, grid: tuple):
        super().__init__()
        with warnings.catch_warnings():  # PyG's import scripts functions with the deprecated torch.jit
            warnings.simplefilter("ignore", FutureWarning)
            from torch_geometric.nn import DenseGCNConv  # imported only by the gnn backbone (a slow import)

        self.norm1 = nn.LayerNorm(cfg.width, eps=cfg.norm_eps)
        self.gcn = DenseGCNConv(cfg.width, cfg.width)  # adds self-loops, D^-1/2 (A + I) D^-1/2
        self.norm2 = nn.LayerNorm(cfg.width, eps=cfg.norm_eps)
        self.mlp = Mlp(cfg.width, cfg.mlp_hidden, act_layer=nn.GELU)
        self.register_buffer("adj", torch.from_numpy(grid_adjacency(tuple(grid))), persistent=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x + self.gcn(self.norm1(x), self.adj)
        return x + self.mlp(self.norm2(x))


# One builder per registered backbone (tokfrag.backbones): one block, (B, L, D) -> (B, L, D).
@backbones.builder("transformer", "pytorch")
def _transformer(spec: PipelineSpec, index: int) -> Block:
    return block(spec.encoder)


@backbones.builder("cnn", "pytorch")
def _cnn(spec: PipelineSpec, index: int) -> ConvBlock:
    return ConvBlock(spec.encoder.width, spec.backbone.kernel, spec.grid, spec.encoder.norm_eps)


@backbones.builder("lstm", "pytorch")
def _lstm(spec: PipelineSpec, index: int) -> LSTMLayer:
    return LSTMLayer(spec.encoder.width)


@backbones.builder("gnn", "pytorch")
def _gnn(spec: PipelineSpec, index: int) -> GraphBlock:
    return GraphBlock(spec.encoder, spec.grid)


def blocks(spec: PipelineSpec) -> nn.ModuleList:
    """The backbone's blocks: each maps (B, L, D) -> (B, L, D)."""
    return nn.ModuleList(backbones.build(spec, "pytorch"))
