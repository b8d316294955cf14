"""The analytic FLOP count (the numerator of MFU) against PyTorch's own FLOP counter."""

import pytest

from conftest import needs
from tokfrag import flops
from tokfrag.spec import PIPELINES


@needs("pytorch")
@pytest.mark.parametrize("pipeline", list(PIPELINES))
def test_forward_flops_match_torch_flop_counter(pipeline):
    import torch
    from torch.utils.flop_counter import FlopCounterMode

    from implementations.pytorch.model import TokFragEncoder

    spec = PIPELINES[pipeline]
    model = TokFragEncoder(spec)
    batch = 3
    if spec.representation == "fragment":
        x = torch.rand(batch, spec.seq_len, spec.input_dim)
    else:
        x = torch.randint(0, spec.input_dim, (batch, spec.seq_len))
    # torch's counter has no formula for the CPU flash-attention kernel that timm's blocks call,
    # so it sees every Linear (exactly) but not q k^T and the weighted values: those two are
    # checked by hand below.
    linear = flops.forward_per_sample(spec) - flops.breakdown(spec)["attention"]
    with FlopCounterMode(display=False) as counter:
        model(x)
    assert counter.get_total_flops() == batch * linear
    with FlopCounterMode(display=False) as counter:
        torch.nn.functional.cross_entropy(model(x), torch.zeros(batch, dtype=torch.long)).backward()
    # training = 3 x forward, less the input gradient of the embedding, which nothing needs
    # (MFU counts the usual 3 x forward; the difference is the one term below)
    assert counter.get_total_flops() == batch * (3 * linear - flops.breakdown(spec)["embed"])


def test_hand_count():
    spec = PIPELINES["mnist/fragment"]  # 16 units of 49 pixels, width 64, 4 heads, MLP 128, depth 4, 10 classes
    attention = 4 * (16 * 16 * 16 * 2) * 2 * 4  # per head: (16x16 scores + 16x16 @ 16x16 values), 2 FLOPs a MAC
    assert flops.breakdown(spec)["attention"] == attention
    block = 2 * 16 * 64 * 192 + 2 * 16 * 64 * 64 + 2 * (2 * 16 * 64 * 128)
    assert flops.forward_per_sample(spec) == 2 * 16 * 49 * 64 + 4 * block + attention + 2 * 64 * 10
    assert flops.mfu(50.0, 200.0) == 25.0


@needs("pytorch")
def test_calibrate_alternates_rounds_and_reports_consistent_ratios(mnist, monkeypatch):
    """`tokfrag calibrate`'s measurement: every loop runs once per round, and the ratios it
    prints are the ratios of its own medians."""
    from implementations import pytorch as impl
    from tokfrag import calibrate
    from tokfrag.spec import get_pipeline

    calls = []
    real = impl.bare_loop

    def counting(spec, batch_size, device="cpu"):
        timed = real(spec, batch_size, device)

        def wrapped(steps):
            calls.append(steps)
            return timed(steps)
        return wrapped

    monkeypatch.setattr(impl, "bare_loop", counting)
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
