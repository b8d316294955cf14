"""The PyTorch implementation (timm blocks): layers, model, preprocess, train."""

from tokfrag.trainer import FRAMEWORK_API

from . import model, preprocess, train  # noqa: F401 (model and preprocess: exported by __all__ below)

# What tokfrag.trainer.Framework lists, and only that: the two modules above, the rest from train.py.
globals().update({name: getattr(train, name) for name in FRAMEWORK_API if name not in ("model", "preprocess")})
__all__ = list(FRAMEWORK_API)
