"""TensorFlow fragmenter and tokenizer, with TF ops only (see tokfrag.reference for the rules)."""

from __future__ import annotations

import tensorflow as tf

from tokfrag.reference import PUNCTUATION, distance_dtype
from tokfrag.spec import Windows


def windows(x: tf.Tensor, spec: Windows) -> tf.Tensor:
    """(N, *signal) -> float32 (N, L, window cells); cell values are unchanged (exact integers)."""
    x = tf.cast(x, tf.float32)
    signal = tuple(x.shape[1:])
    padded = spec.padded(signal)
    if padded != signal:
        x = tf.pad(x, [[0, 0]] + [[0, p - n] for n, p in zip(signal, padded)])
    rank = len(spec.window)
    if rank == 1:
        x = tf.signal.frame(x, spec.window[0], spec.stride[0], axis=1)  # (N, g, w)
    elif rank == 2:
        (h, w), (sh, sw) = spec.window, spec.stride
        x = tf.image.extract_patches(x[..., None], sizes=[1, h, w, 1], strides=[1, sh, sw, 1],
                                     rates=[1, 1, 1, 1], padding="VALID")  # (N, gh, gw, h*w)
    elif rank == 3:
        x = tf.extract_volume_patches(x[..., None], ksizes=[1, *spec.window, 1], strides=[1, *spec.stride, 1],
                                      padding="VALID")  # (N, gt, gh, gw, t*h*w)
    else:
        raise ValueError(f"{rank}-d windows are not supported")
    return tf.reshape(x, (tf.shape(x)[0], -1, spec.size))


def fragments(x: tf.Tensor, spec: Windows) -> tf.Tensor:
    """uint8 (N, *signal) -> float32 (N, L, cells) in [0, 1]."""
    return windows(x, spec) / 255.0


def tokens(x: tf.Tensor, spec: Windows, centroids: tf.Tensor) -> tf.Tensor:
    """uint8 (N, *signal) -> int64 (N, L): the nearest centroid, lowest index on ties.

    The float32 distances are exact integers. ``tf.argmin`` does not promise which of
    several minima it returns, so ties are broken explicitly: the key distance * K + index
    is unique, and its minimum carries the lowest index among the nearest centroids.
    """
    dtype = tf.as_dtype(distance_dtype(spec.size))  # exact either way
    u = tf.cast(windows(x, spec), dtype)  # (N, L, P)
    c = tf.cast(centroids, dtype)  # (K, P)
    k = tf.shape(c)[0]
    n, length = tf.shape(u)[0], tf.shape(u)[1]
    flat = tf.reshape(u, (-1, spec.size))  # (N*L, P)
    d = (tf.reduce_sum(flat * flat, -1, keepdims=True) - 2.0 * tf.matmul(flat, c, transpose_b=True)
         + tf.reduce_sum(c * c, -1))  # (N*L, K)
    k64 = tf.cast(k, tf.int64)
    key = tf.cast(d, tf.int64) * k64 + tf.range(k64)
    ids = tf.reduce_min(key, axis=-1) % k64
    return tf.reshape(ids, (n, length))


# --- text -------------------------------------------------------------------------------

def byte_fragments(texts: tf.Tensor, spec: Windows, length: int) -> tf.Tensor:
    """strings (N,) -> float32 (N, L, w * 256): first ``length`` UTF-8 bytes, one-hot, padding zeros."""
    b = tf.io.decode_raw(texts, tf.uint8, fixed_length=length)  # (N, length), zero-padded or cut
    ids = tf.cast(windows(b, spec), tf.int32)  # (N, L, w)
    onehot = tf.one_hot(ids, 256) * tf.cast(ids > 0, tf.float32)[..., None]
    return tf.reshape(onehot, (tf.shape(b)[0], -1, spec.size * 256))


def standardize(texts: tf.Tensor) -> tf.Tensor:
    """Unicode lower case, then ASCII punctuation deleted (the reference's word rules)."""
    return tf.strings.regex_replace(tf.strings.lower(texts, encoding="utf-8"), PUNCTUATION, "")


class WordTokenizer:
    """Keras ``TextVectorization`` configured to the reference's word rules: id 0 padding,
    1 unknown ("[UNK]"), the vocabulary from 2, first ``max_len`` words kept."""

    def __init__(self, vocabulary: list[str], max_len: int):
        import keras

        self.layer = keras.layers.TextVectorization(
            standardize=standardize, split="whitespace", output_mode="int",
            output_sequence_length=max_len, vocabulary=list(vocabulary))

    def __call__(self, texts: tf.Tensor) -> tf.Tensor:
        return tf.cast(self.layer(texts), tf.int64)
