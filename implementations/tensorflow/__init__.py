"""The TensorFlow implementation (Keras 3 layers, TensorFlow backend): layers, model, preprocess, train."""

import os

# Pin the backend before Keras is imported, so that a user's keras.json cannot silently
# turn the TensorFlow column into another framework.
if os.environ.setdefault("KERAS_BACKEND", "tensorflow") != "tensorflow":
    raise RuntimeError(f"KERAS_BACKEND={os.environ['KERAS_BACKEND']}: the TensorFlow column needs 'tensorflow'")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # keep TensorFlow's start-up chatter out of the results

import tensorflow as tf  # noqa: E402

from tokfrag.frameworks import threads  # noqa: E402

try:  # only possible before TensorFlow's runtime starts; later calls keep the first setting
    tf.config.threading.set_intra_op_parallelism_threads(threads())
    tf.config.threading.set_inter_op_parallelism_threads(min(2, threads()))
except RuntimeError:
    pass

from . import model, preprocess  # noqa: E402
from .train import (
    MODES,
    OOM_ERRORS,
    PRECISIONS,
    Trainer,
    bare_loop,
    join_workers,
    leave_workers,
    matmul_peak,
    select_device,  # noqa: E402
    versions,
)

__all__ = ["MODES", "OOM_ERRORS", "PRECISIONS", "Trainer", "bare_loop", "join_workers", "leave_workers", "matmul_peak",
           "model", "preprocess", "select_device", "versions"]
