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
