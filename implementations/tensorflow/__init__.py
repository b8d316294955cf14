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

from tokfrag.trainer import FRAMEWORK_API  # noqa: E402

from . import model, preprocess, train  # noqa: E402, F401 (model and preprocess: exported by __all__ below)

# What tokfrag.trainer.Framework lists, and only that: the two modules above, the rest from train.py.
globals().update({name: getattr(train, name) for name in FRAMEWORK_API if name not in ("model", "preprocess")})
__all__ = list(FRAMEWORK_API)
