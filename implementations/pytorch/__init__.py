"""The PyTorch implementation (timm blocks): layers, model, preprocess, train."""

from . import model, preprocess
from .train import (
                    MODES,
                    OOM_ERRORS,
                    PRECISIONS,
                    Trainer,
                    bare_loop,
                    join_workers,
                    leave_workers,
                    matmul_peak,
                    select_device,
                    versions,
)

__all__ = ["MODES", "OOM_ERRORS", "PRECISIONS", "Trainer", "bare_loop", "join_workers", "leave_workers", "matmul_peak",
           "model", "preprocess", "select_device", "versions"]
