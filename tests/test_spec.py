import math
import subprocess
import sys

import pytest

from tokfrag import params, spec
from tokfrag.spec import ARTICLE_WINDOWS, PIPELINES, Windows, get_pipeline


def test_registry_names_and_pairs():
    assert {"mnist/fragment", "mnist/token"} <= set(PIPELINES)
    for name, p in PIPELINES.items():
        assert name == f"{p.dataset.name}/{p.representation}"
    # token and fragment pipelines of one dataset cut the same units, so sequences match
    for ds in spec.datasets():
        lengths = {p.seq_len for p in PIPELINES.values() if p.dataset.name == ds}
        assert len(lengths) == 1, (ds, lengths)


def test_unknown_pipeline_lists_valid_names():
    with pytest.raises(KeyError) as e:
        get_pipeline("mnist/pixels")
    assert "mnist/fragment" in str(e.value) and "mnist/token" in str(e.value)


def test_article_geometry_is_a_named_variant():
    p = get_pipeline("mnist/fragment@article")
    assert p.windows == ARTICLE_WINDOWS == Windows((10, 10), (5, 5))
    assert p.grid == (5, 5)  # 28 px padded to 30: windows at 0, 5, 10, 15, 20
    assert p.windows.padded((28, 28)) == (30, 30)
    assert "mnist/fragment@article" not in PIPELINES  # not in the default matrix


def test_defaults():
    p = get_pipeline("mnist/fragment")
    assert p.encoder.width % p.encoder.heads == 0
    assert p.train.optimizer == "adamw"
    assert p.encoder.norm_eps == 1e-6
    with pytest.raises(ValueError):
        spec.EncoderConfig(width=10, heads=3)
    with pytest.raises(ValueError):
        spec.PipelineSpec(spec.MNIST, "token", Windows((4, 4), (4, 4)))  # token without codebook


def test_lr_schedule_warms_up_then_decays():
    t = spec.TrainConfig()
    total = 1000
    lrs = [t.lr_at(s, total) for s in range(total)]
    peak = lrs.index(max(lrs))
    assert 0 < lrs[0] < t.lr and abs(max(lrs) - t.lr) < 1e-12
    assert all(a <= b for a, b in zip(lrs[:peak], lrs[1:peak + 1]))
    assert all(a >= b for a, b in zip(lrs[peak:], lrs[peak + 1:]))
    assert lrs[-1] < 0.01 * t.lr


def test_parameter_table():
    for p in PIPELINES.values():
        shapes = params.shapes(p)
        assert shapes["pos_embed"] == (1, p.seq_len, p.encoder.width)
        w0 = params.initial(p, seed=0)
        assert set(w0) == set(shapes) and all(w0[n].shape == s for n, s in shapes.items())
        assert all(abs(v).max() <= 2 * params.INIT_STD + 1e-9 for n, v in w0.items() if n.endswith("qkv.weight"))
        assert (w0["norm.weight"] == 1).all() and (w0["head.bias"] == 0).all()


def test_core_imports_no_framework():
    code = ("import sys, tokfrag.spec, tokfrag.reference, tokfrag.params, tokfrag.data, tokfrag.frameworks, "
            "tokfrag.training, tokfrag.parity, tokfrag.cli, tokfrag.runs, tokfrag.machine; "
            "bad = [m for m in ('torch', 'tensorflow', 'keras') if m in sys.modules]; "
            "print(bad); sys.exit(1 if bad else 0)")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr


# --- the backbone axis ------------------------------------------------------------------

def test_every_pipeline_exists_under_every_backbone():
    from tokfrag.backbones import names
    from tokfrag.spec import backbone_pipelines, get_pipeline, registered

    assert len(backbone_pipelines()) == len(PIPELINES) * (len(names()) - 1)
    for name, p in registered().items():
        assert get_pipeline(name) is p
        assert p.base_name in PIPELINES and p.name.startswith(p.base_name)
    assert get_pipeline("mnist/fragment@article+cnn").backbone.kernel == (3, 3)
    with pytest.raises(KeyError, match="backbone among transformer, cnn, lstm, gnn"):
        get_pipeline("mnist/fragment+rnn")


def test_backbones_share_the_embedding_and_the_head():
    """Only ``blocks.*`` differ: token vs fragment stays apples to apples under each backbone."""
    from tokfrag import params
    from tokfrag.spec import backbone_pipelines

    for p in backbone_pipelines().values():
        base = PIPELINES[p.base_name]
        ends = {n: s for n, s in params.shapes(base).items() if not n.startswith("blocks.")}
        assert {n: s for n, s in params.shapes(p).items() if not n.startswith("blocks.")} == ends


def test_backbone_parameter_counts_within_15_percent_per_dataset():
    """The Long Range Arena rule: the backbones of one dataset are sized alike."""
    from tokfrag import params
    from tokfrag.backbones import names
    from tokfrag.spec import with_backbone

    for base in PIPELINES.values():
        counts = {b: sum(math.prod(s) for s in params.block_shapes(with_backbone(base, b)).values())
                  for b in names()}
        assert max(counts.values()) <= 1.15 * min(counts.values()), (base.name, counts)
    assert counts == {"transformer": 133_888, "cnn": 148_224, "lstm": 132_096, "gnn": 146_944}


@pytest.mark.parametrize("grid, degrees", [((4, 4), {2, 3, 4}), ((4, 4, 4), {3, 4, 5, 6}), ((32,), {1, 2})])
def test_grid_graph(grid, degrees):
    from tokfrag import graph

    adj = graph.grid_adjacency(grid)
    assert (adj == adj.T).all() and not adj.diagonal().any()
    assert set(adj.sum(axis=1).astype(int)) == degrees
    n = math.prod(grid)
    assert len(graph.neighbours(grid)) == sum(n // g * (g - 1) for g in grid)  # edges along each axis
    a_hat = graph.gcn_normalized(adj)
    assert a_hat[0, 0] == pytest.approx(1 / (adj[0].sum() + 1))  # self-loop weight 1/deg
    assert (a_hat == a_hat.T).all()
