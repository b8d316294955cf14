"""A backbone is one registry entry (``tokfrag.backbones``) plus one builder per framework.

The proof: an MLP-Mixer token mixer, registered here in test code only (its parameter table, FLOPs,
sizing and both frameworks' blocks), goes through the spec, parity, the FLOP count, the asv parameter
lists and the leaderboard's backbone filter with no file of tokfrag touched.
"""

import importlib
import re
from pathlib import Path

import pytest

from helpers import needs, write_results
from tokfrag import backbones, flops, leaderboard, params, spec
from tokfrag.errors import UnknownName

REPO = Path(__file__).resolve().parents[1]
MIXER = "mixer"


def _mixer_shapes(s, p):
    """A Mixer block (Tolstikhin et al., 2021): x + token_mlp(norm1(x))^T over the units, then the
    transformer's channel MLP. The token MLP's hidden size is twice the number of units; its output has
    no bias (a constant over a unit's channels, which the final LayerNorm removes: its gradient is noise
    that AdamW would scale up, differently in each framework)."""
    d, n = s.encoder.width, s.seq_len
    out = {}
    backbones.norm(out, p + "norm1", d)
    backbones.linear(out, p + "mix.fc1", n, 2 * n)
    out[p + "mix.fc2.weight"] = (n, 2 * n)
    backbones.mlp(out, p, d, s.encoder.mlp_hidden)
    return out


def _mixer_flops(s):
    n, d, depth = s.seq_len, s.encoder.width, s.backbone.depth
    return {"token_mix": depth * 2 * (2 * d * n * 2 * n), "mlp": depth * 2 * (2 * n * d * s.encoder.mlp_hidden)}


def _torch_block(s, index):
    from timm.layers import Mlp
    from torch import nn

    class MixerBlock(nn.Module):
        def __init__(self):
            super().__init__()
            d, n = s.encoder.width, s.seq_len
            self.norm1 = nn.LayerNorm(d, eps=s.encoder.norm_eps)
            self.mix = Mlp(n, 2 * n, act_layer=nn.GELU, bias=(True, False))
            self.norm2 = nn.LayerNorm(d, eps=s.encoder.norm_eps)
            self.mlp = Mlp(d, s.encoder.mlp_hidden, act_layer=nn.GELU)

        def forward(self, x):
            x = x + self.mix(self.norm1(x).transpose(1, 2)).transpose(1, 2)
            return x + self.mlp(self.norm2(x))

    return MixerBlock()


def _keras_block(s, index, dtype):
    from keras import layers, ops

    from implementations.tensorflow.layers import Mlp

    class MixerBlock(layers.Layer):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            d, n, p = s.encoder.width, s.seq_len, self.dtype_policy
            self.norm1 = layers.LayerNormalization(epsilon=s.encoder.norm_eps, dtype=p, name="norm1")
            self.mix = Mlp(n, 2 * n, dtype=p, name="mix")
            self.mix.fc2 = layers.Dense(n, use_bias=False, dtype=p, name="fc2")
            self.norm2 = layers.LayerNormalization(epsilon=s.encoder.norm_eps, dtype=p, name="norm2")
            self.mlp = Mlp(d, s.encoder.mlp_hidden, dtype=p, name="mlp")

        def call(self, x):
            x = x + ops.transpose(self.mix(ops.transpose(self.norm1(x), (0, 2, 1))), (0, 2, 1))
            return x + self.mlp(self.norm2(x))

    return MixerBlock(dtype=dtype, name=f"blocks_{index}")


@pytest.fixture
def mixer():
    """The Mixer registered for one test, with its two builders; removed afterwards."""
    backbones.register(backbones.Entry(
        name=MIXER, size=lambda rank: (4, ()), block_shapes=_mixer_shapes, flops=_mixer_flops,
        reads="the units as the columns of a token-mixing MLP, then the transformer's channel MLP"))
    backbones.builder(MIXER, "pytorch")(_torch_block)
    backbones.builder(MIXER, "tensorflow")(_keras_block)
    try:
        yield MIXER
    finally:
        backbones.unregister(MIXER)


def test_a_registered_backbone_reaches_the_spec(mixer):
    assert backbones.names()[-1] == mixer
    for base in spec.PIPELINES:
        p = spec.get_pipeline(f"{base}+{mixer}")
        assert p.backbone.name == mixer and p.name == f"{base}+{mixer}" and p.base_name == base
        assert p.name in spec.registered()
        ends = {n: s for n, s in params.shapes(spec.PIPELINES[base]).items() if not n.startswith("blocks.")}
        assert {n: s for n, s in params.shapes(p).items() if not n.startswith("blocks.")} == ends
        assert set(params.initial(p)) == set(params.shapes(p))
    assert spec.get_pipeline(f"mnist/fragment@article+{mixer}").variant == "article"


def test_an_unknown_backbone_lists_the_registered_ones(mixer):
    with pytest.raises(UnknownName, match=f"registered backbones: transformer, cnn, lstm, gnn, {mixer}"):
        spec.Backbone("resnet")
    with pytest.raises(UnknownName, match=f"backbone among transformer, cnn, lstm, gnn, {mixer}"):
        spec.get_pipeline("mnist/token+resnet")
    backbones.unregister(mixer)
    with pytest.raises(UnknownName, match="registered backbones: transformer, cnn, lstm, gnn$"):
        spec.Backbone(mixer)
    with pytest.raises(ValueError, match="already registered"):
        backbones.register(backbones.get("cnn"))


def test_a_backbone_without_a_builder_says_which(mixer):
    backbones.unregister(mixer)
    backbones.register(backbones.Entry(name=mixer, size=lambda rank: (4, ()), block_shapes=_mixer_shapes,
                                       flops=_mixer_flops, reads=""))
    with pytest.raises(UnknownName, match="has no pytorch builder"):
        backbones.build(spec.get_pipeline(f"mnist/token+{mixer}"), "pytorch")


@needs("pytorch")
def test_a_registered_backbone_counts_its_flops(mixer):
    import torch
    from torch.utils.flop_counter import FlopCounterMode

    from implementations.pytorch.model import TokFragEncoder

    for base in ("mnist/fragment", "text/token"):
        s = spec.get_pipeline(f"{base}+{mixer}")
        model = TokFragEncoder(s)
        assert sum(v.numel() for v in model.parameters()) == params.count(s)
        x = torch.rand(3, s.seq_len, s.input_dim) if s.representation == "fragment" else \
            torch.randint(0, s.input_dim, (3, s.seq_len))
        with FlopCounterMode(display=False) as counter:
            model(x)
        assert counter.get_total_flops() == 3 * flops.forward_per_sample(s)


@needs("pytorch", "tensorflow")
@pytest.mark.slow
def test_a_registered_backbone_passes_parity(mixer):
    from tokfrag import parity

    rows = parity.check_pipeline(spec.get_pipeline(f"mnist/token+{mixer}"))
    assert [r.check for r in rows] == list(parity.CHECKS)
    assert all(r.status == "pass" for r in rows), [(r.check, r.status, r.max_diff, r.detail) for r in rows]


def test_a_registered_backbone_is_an_asv_parameter(mixer, monkeypatch):
    monkeypatch.syspath_prepend(str(REPO))
    for module in ("benchmarks.bench_backbones", "benchmarks.bench_scale"):
        bench = importlib.reload(importlib.import_module(module))
        assert mixer in bench.BACKBONES
        assert all(mixer in cls.params[cls.param_names.index("backbone")]
                   for cls in vars(bench).values() if isinstance(cls, type) and "backbone" in
                   getattr(cls, "param_names", ()))
    importlib.reload(importlib.import_module("benchmarks.bench_backbones"))  # back to the registry's own


def test_a_registered_backbone_gets_a_leaderboard_filter(mixer, tmp_path):
    from helpers import BENCHMARKS, VALUES

    bench = {"bench_backbones.Training.track_accuracy": ("framework", "pipeline", "backbone", "device"),
             "bench_pipelines.Training.track_accuracy": BENCHMARKS["bench_pipelines.Training.track_accuracy"]}
    VALUES["backbone"] = ["transformer", mixer]
    try:
        write_results(tmp_path, bench_params=bench)
    finally:
        del VALUES["backbone"]
    board = leaderboard.build(tmp_path)
    assert board.backbones() == ["transformer", mixer]
    text = leaderboard.page(board)
    assert f'data-filter="backbone" value="{mixer}"' in text and f'data-backbone="{mixer}"' in text


def test_no_backbone_name_is_compared_outside_the_registry():
    """Backbone knowledge lives in tokfrag/backbones.py and the frameworks' registered builders."""
    pattern = re.compile(r"""[!=]=\s*["'](transformer|cnn|lstm|gnn)["']|["'](transformer|cnn|lstm|gnn)["']\s*[!=]=""")
    found = [f"{path.relative_to(REPO)}:{i}" for folder in ("tokfrag", "implementations", "benchmarks", "gpu")
             for path in sorted((REPO / folder).rglob("*.py")) if path.name != "backbones.py"
             for i, line in enumerate(path.read_text().splitlines(), 1) if pattern.search(line)]
    assert not found
