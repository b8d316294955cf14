"""Analytic FLOPs of a pipeline's model, from the spec (matrix multiplications only).

The usual convention (Kaplan et al., PaLM's MFU): a multiply-add is 2 FLOPs; norms,
activations, softmax and the embedding-table lookup are not counted; a training step costs
3x the forward pass (the backward pass computes gradients for inputs and weights).
Preprocessing (windows, nearest centroid, tokenizing) is outside the model and not counted.
"""

from __future__ import annotations

from .spec import PipelineSpec


def breakdown(spec: PipelineSpec) -> dict[str, int]:
    """FLOPs of one sample's forward pass, per kind of matrix multiplication."""
    e = spec.encoder
    n, d, h, depth = spec.seq_len, e.width, e.mlp_hidden, e.depth
    return {
        "embed": 2 * n * spec.input_dim * d if spec.representation == "fragment" else 0,  # a lookup is free
        "qkv": depth * 2 * n * d * 3 * d,
        "attention": depth * 2 * (2 * n * n * d),  # scores q k^T and weighted values, all heads
        "proj": depth * 2 * n * d * d,
        "mlp": depth * 2 * (2 * n * d * h),  # fc1 and fc2
        "head": 2 * d * spec.dataset.num_classes,
    }


def forward_per_sample(spec: PipelineSpec) -> int:
    """FLOPs of one sample's forward pass."""
    return sum(breakdown(spec).values())


def train_per_sample(spec: PipelineSpec) -> int:
    """FLOPs of one sample's training step (forward + backward = 3 x forward)."""
    return 3 * forward_per_sample(spec)


def mfu(achieved_flops_per_s: float, peak_flops_per_s: float) -> float:
    """Model FLOPs utilisation, in % of the measured peak."""
    return 100.0 * achieved_flops_per_s / peak_flops_per_s
