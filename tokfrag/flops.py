"""Analytic FLOPs of a pipeline's model, from the spec (matrix multiplications only).

The usual convention (Kaplan et al., PaLM's MFU): a multiply-add is 2 FLOPs; norms,
activations, softmax and the embedding-table lookup are not counted; a training step costs
3x the forward pass (the backward pass computes gradients for inputs and weights).
Preprocessing (windows, nearest centroid, tokenizing) is outside the model and not counted.
"""

from __future__ import annotations

from . import backbones
from .spec import PipelineSpec


def breakdown(spec: PipelineSpec) -> dict[str, int]:
    """FLOPs of one sample's forward pass, per kind of matrix multiplication (or convolution)."""
    n, d = spec.seq_len, spec.encoder.width
    out = {"embed": 2 * n * spec.input_dim * d if spec.representation == "fragment" else 0}  # a lookup is free
    out.update(backbones.get(spec.backbone.name).flops(spec))  # the registered backbone's blocks
    out["head"] = 2 * d * spec.dataset.num_classes
    return out


def forward_per_sample(spec: PipelineSpec) -> int:
    """FLOPs of one sample's forward pass."""
    return sum(breakdown(spec).values())


def train_per_sample(spec: PipelineSpec) -> int:
    """FLOPs of one sample's training step (forward + backward = 3 x forward)."""
    return 3 * forward_per_sample(spec)


def mfu(achieved_flops_per_s: float, peak_flops_per_s: float) -> float:
    """Model FLOPs utilisation, in % of the measured peak."""
    return 100.0 * achieved_flops_per_s / peak_flops_per_s


def probe_peak(matmul_at, n: int = 2048, seconds: float = 1.0, smallest: int = 256) -> float:
    """FLOP/s of repeated square matmuls: the probe of a device's peak, the denominator of MFU.

    ``matmul_at(size)`` returns a callable that runs one synchronised ``size x size`` matmul.
    The size doubles from ``smallest`` up to ``n`` while the next size's single matmul would
    still take under a quarter of ``seconds``: a precision the hardware only emulates (bf16
    without AVX-512 BF16 or AMX runs at well under 1 GFLOP/s) is then probed in about a
    second, not in minutes at 2048x2048.
    """
    import time

    size = smallest
    while True:
        mm = matmul_at(size)
        mm()  # warm-up: allocation, tracing
        start = time.perf_counter()
        mm()
        once = time.perf_counter() - start
        if size >= n or once * 8 > seconds / 4:
            break
        size *= 2
    reps, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        mm()
        reps += 1
    return 2 * size**3 * reps / (time.perf_counter() - start)
