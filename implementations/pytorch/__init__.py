"""The PyTorch implementation (timm blocks): layers, model, preprocess, train."""

from . import model, preprocess
from .train import MODES, OOM_ERRORS, PRECISIONS, Trainer, select_device, versions

__all__ = ["MODES", "OOM_ERRORS", "PRECISIONS", "Trainer", "model", "preprocess", "select_device", "versions"]
