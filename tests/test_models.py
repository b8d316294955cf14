"""Both frameworks: forward shapes, equal parameter counts, one AdamW step lowers the loss."""

import numpy as np
import pytest

from helpers import needs
from tokfrag import params, reference
from tokfrag.spec import PIPELINES
from tokfrag.training import make_trainer

FRAMEWORKS = [pytest.param("pytorch", marks=needs("pytorch")), pytest.param("tensorflow", marks=needs("tensorflow"))]


@pytest.mark.parametrize("framework", FRAMEWORKS)
@pytest.mark.parametrize("pipeline", list(PIPELINES))
def test_forward_shape_count_and_one_step(framework, pipeline, mnist):
    spec = PIPELINES[pipeline]
    trainer, prepared = make_trainer(framework, spec)
    assert sum(v.size for v in trainer.parameters().values()) == params.count(spec)
    x = trainer.inputs(prepared.train_x[:32])
    assert tuple(x.shape) == ((32, spec.seq_len, spec.input_dim) if spec.representation == "fragment"
                              else (32, spec.seq_len))
    logits = np.asarray(trainer.logits(x))
    assert logits.shape == (32, spec.dataset.num_classes) and np.isfinite(logits).all()
    y = trainer.labels(prepared.train_y[:32])
    before, _ = trainer.gradients(x, y)
    for _ in range(3):
        trainer.sync(trainer.train_step(x, y, spec.train.lr))
    after, _ = trainer.gradients(x, y)
    assert after < before, (before, after)


@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_preprocess_matches_reference_on_a_batch(framework, mnist):
    for spec in PIPELINES.values():
        trainer, prepared = make_trainer(framework, spec)
        cb = prepared.codebook(spec) if spec.codebook else None
        want = reference.preprocess(spec, prepared.test_x[:100], cb)
        got = np.asarray(trainer.inputs(prepared.test_x[:100]))
        if spec.representation == "token":
            assert (got == want).all()
        else:
            assert np.abs(got - want).max() <= 1e-6


@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_unknown_mode_and_device(framework, mnist):
    spec = PIPELINES["mnist/fragment"]
    with pytest.raises(ValueError, match="valid modes"):
        make_trainer(framework, spec, mode="turbo")
    with pytest.raises(ValueError, match="valid devices"):
        make_trainer(framework, spec, device="tpu")


@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_each_framework_fulfils_the_trainer_contract(framework):
    """What tokfrag.trainer.Framework lists is exported; Trainer implements every abstract method."""
    from tokfrag import frameworks, spec, trainer

    impl = frameworks.get(framework)
    assert [name for name in trainer.FRAMEWORK_API if not hasattr(impl, name)] == []
    assert impl.__all__ == list(trainer.FRAMEWORK_API)  # exports derived from the protocol, not listed again
    assert {"join_workers", "leave_workers", "bare_step"} <= set(trainer.FRAMEWORK_API)
    assert issubclass(impl.Trainer, trainer.Trainer) and not impl.Trainer.__abstractmethods__
    assert impl.Trainer.framework == framework
    assert (impl.MODES, impl.PRECISIONS) == (spec.MODES, spec.PRECISIONS)
    for name in spec.PREPROCESSINGS:  # the dispatch finds a function of that name on both sides
        assert callable(getattr(impl.Trainer, name)) and hasattr(reference, name)
