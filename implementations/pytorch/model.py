"""The PyTorch model: embed (Linear or Embedding) + position table -> backbone blocks -> norm -> mean -> head."""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from tokfrag.spec import PipelineSpec

from .layers import blocks


class TokFragEncoder(nn.Module):
    def __init__(self, spec: PipelineSpec):
        super().__init__()
        e = spec.encoder
        if spec.representation == "fragment":
            self.embed = nn.Linear(spec.input_dim, e.width)  # flattened window -> width
        else:
            self.embed = nn.Embedding(spec.input_dim, e.width)  # token id -> width
        self.pos_embed = nn.Parameter(torch.zeros(1, spec.seq_len, e.width))
        self.blocks = blocks(spec)  # the backbone: (B, L, D) -> (B, L, D)
        self.norm = nn.LayerNorm(e.width, eps=e.norm_eps)
        self.head = nn.Linear(e.width, spec.dataset.num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.embed(x) + self.pos_embed  # (B, L, P) or (B, L) ids -> (B, L, D)
        for blk in self.blocks:
            x = blk(x)
        x = self.norm(x).mean(dim=1)  # (B, L, D) -> (B, D)
        return self.head(x)


def named_parameters(model: nn.Module) -> dict[str, np.ndarray]:
    """Canonical name -> float32 numpy value (torch's layout is the canonical one)."""
    return {n: p.detach().float().cpu().numpy().copy() for n, p in model.named_parameters()}


def load_parameters(model: nn.Module, values: dict[str, np.ndarray]) -> None:
    """Set every parameter from canonical values; names and shapes must match exactly."""
    own = dict(model.named_parameters())
    missing, extra = sorted(set(own) - set(values)), sorted(set(values) - set(own))
    if missing or extra:
        raise ValueError(f"parameter names differ: missing {missing}, unexpected {extra}")
    with torch.no_grad():
        for name, p in own.items():
            v = np.asarray(values[name])
            if tuple(v.shape) != tuple(p.shape):
                raise ValueError(f"{name}: shape {tuple(v.shape)} does not fit {tuple(p.shape)}")
            p.copy_(torch.from_numpy(np.ascontiguousarray(v, dtype=np.float32)))
