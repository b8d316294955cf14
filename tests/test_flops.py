"""The analytic FLOP count (the numerator of MFU) against PyTorch's own FLOP counter."""

import pytest

from helpers import needs
from tokfrag import flops
from tokfrag.spec import PIPELINES, get_pipeline, registered

# Kinds of work torch's counter does not see: it has no formula for the CPU flash-attention
# kernel that timm's blocks call (q k^T and the weighted values), nor for the fused LSTM kernel.
UNCOUNTED_BY_TORCH = ("attention", "lstm")


@needs("pytorch")
@pytest.mark.parametrize("pipeline", list(registered()))
def test_forward_flops_match_torch_flop_counter(pipeline):
    import torch
    from torch.utils.flop_counter import FlopCounterMode

    from implementations.pytorch.model import TokFragEncoder

    spec = registered()[pipeline]
    model = TokFragEncoder(spec)
    batch = 3
    if spec.representation == "fragment":
        x = torch.rand(batch, spec.seq_len, spec.input_dim)
    else:
        x = torch.randint(0, spec.input_dim, (batch, spec.seq_len))
    # torch's counter sees every Linear and convolution exactly; the rest is checked by hand below.
    parts = flops.breakdown(spec)
    linear = flops.forward_per_sample(spec) - sum(parts.get(k, 0) for k in UNCOUNTED_BY_TORCH)
    with FlopCounterMode(display=False) as counter:
        model(x)
    assert counter.get_total_flops() == batch * linear
    with FlopCounterMode(display=False) as counter:
        torch.nn.functional.cross_entropy(model(x), torch.zeros(batch, dtype=torch.long)).backward()
    # training = 3 x forward, less the input gradient of the embedding, which nothing needs, and
    # the gradient of the graph's constant propagation matrix (MFU counts the usual 3 x forward)
    assert counter.get_total_flops() == batch * (3 * linear - parts["embed"] - parts.get("aggregation", 0))


def test_hand_count():
    spec = PIPELINES["mnist/fragment"]  # 16 units of 49 pixels, width 64, 4 heads, MLP 128, depth 4, 10 classes
    attention = 4 * (16 * 16 * 16 * 2) * 2 * 4  # per head: (16x16 scores + 16x16 @ 16x16 values), 2 FLOPs a MAC
    assert flops.breakdown(spec)["attention"] == attention
    block = 2 * 16 * 64 * 192 + 2 * 16 * 64 * 64 + 2 * (2 * 16 * 64 * 128)
    assert flops.forward_per_sample(spec) == 2 * 16 * 49 * 64 + 4 * block + attention + 2 * 64 * 10
    assert flops.mfu(50.0, 200.0) == 25.0


def test_hand_count_of_the_other_backbones():
    d, n = 64, 16  # mnist: 16 units of width 64
    assert flops.breakdown(get_pipeline("mnist/fragment+cnn"))["conv"] == 4 * 2 * n * d * d * 9  # 4 blocks, 3x3
    assert flops.breakdown(get_pipeline("video/token+cnn"))["conv"] == 2 * 2 * 64 * d * d * 18  # 2 blocks, 2x3x3
    assert flops.breakdown(get_pipeline("mnist/token+lstm"))["lstm"] == 4 * n * 2 * (4 * d * d) * 2  # 4 layers
    gnn = flops.breakdown(get_pipeline("text/token+gnn"))  # 32 units in a chain, 7 blocks
    assert gnn["aggregation"] == 7 * 2 * 32 * 32 * d and gnn["gcn"] == 7 * 2 * 32 * d * d


@needs("pytorch")
def test_calibrate_alternates_rounds_and_reports_consistent_ratios(mnist, monkeypatch):
    """`tokfrag calibrate`'s measurement: every loop runs once per round, and the ratios it
    prints are the ratios of its own medians."""
    from implementations import pytorch as impl
    from tokfrag import calibrate
    from tokfrag.spec import get_pipeline

    calls = []
    real = calibrate.bare_loop

    def counting(framework, spec, batch_size, device="cpu"):
        assert framework is impl
        timed = real(framework, spec, batch_size, device)

        def wrapped(steps):
            calls.append(steps)
            return timed(steps)
        return wrapped

    monkeypatch.setattr(calibrate, "bare_loop", counting)
    r = calibrate.measure("pytorch", get_pipeline("mnist/token"), steps=2, rounds=3)
    assert calls == [2, 2, 2]
    b = r["batch_size"]
    assert r["fidelity"] == pytest.approx(r["harness_samples_per_s"] / r["bare_samples_per_s"])
    assert r["preprocess_over_train"] == pytest.approx(r["preprocess_samples_per_s"] / r["harness_samples_per_s"])
    harness, bare, prep = b / r["harness_samples_per_s"], b / r["bare_samples_per_s"], b / r["preprocess_samples_per_s"]
    assert 0 < prep < harness  # tokenizing a batch is part of, so shorter than, a harness step
    assert r["fidelity_without_preprocess"] == pytest.approx(bare / (harness - prep))


@pytest.mark.parametrize("rate, expected_size", [(1e12, 2048), (1e8, 256)])
def test_peak_probe_sizes_itself_to_the_device(rate, expected_size):
    """A fast device is probed at 2048x2048; one that emulates the precision (as bf16 is on a
    CPU without AVX-512 BF16) at a size whose matmul takes a fraction of a second."""
    import time

    sizes = []

    def matmul_at(size):
        sizes.append(size)
        return lambda: time.sleep(2 * size**3 / rate)

    got = flops.probe_peak(matmul_at, n=2048, seconds=0.3)
    assert sizes[-1] == expected_size
    assert 0.5 * rate < got <= rate  # sleep overshoots, never undershoots
