import numpy as np

from helpers import needs
from tokfrag import reference
from tokfrag.spec import Codebook, Windows

W44 = Windows((4, 4), (4, 4))


def test_windows_layout_row_major():
    x = np.arange(2 * 8 * 8, dtype=np.int64).reshape(2, 8, 8)
    w = reference.windows(x, W44)
    assert w.shape == (2, 4, 16)
    assert (w[0, 1] == x[0, 0:4, 4:8].ravel()).all()  # second window: top row, second column
    assert (w[1, 2] == x[1, 4:8, 0:4].ravel()).all()


def test_padding_covers_every_pixel():
    x = np.ones((1, 28, 28), np.uint8)
    w = reference.windows(x, Windows((10, 10), (5, 5)))
    assert w.shape == (1, 25, 100)
    assert w[0, -1].sum() == 8 * 8  # last window: 8x8 real pixels, the rest zero padding


def tie_case():
    """Centroids 0 and 2 are equidistant from the window; 1 is a duplicate of 2."""
    x = np.zeros((1, 4, 4), np.uint8)
    x[0, 0, 0] = 10
    c = np.zeros((4, 16), np.uint8)
    c[0, 0] = 20  # distance 100
    c[1, 1] = 10  # distance 100 + 100
    c[2, 2] = 0  # all zero: distance 100 (tie with 0)
    c[3] = 200
    return x, c


def test_ties_go_to_lowest_index_numpy():
    x, c = tie_case()
    assert reference.tokens(x, W44, c).tolist() == [[0]]
    c2 = c.copy()
    c2[[0, 2]] = c2[[2, 0]]  # the tie must follow the index, not the value
    assert reference.tokens(x, W44, c2).tolist() == [[0]]
    c3 = np.stack([c[3], c[2], c[2], c[0]])  # duplicates: 1 and 2 equal, 3 ties with them
    assert reference.tokens(x, W44, c3).tolist() == [[1]]


@needs("pytorch")
def test_ties_go_to_lowest_index_pytorch():
    import torch

    from implementations.pytorch import preprocess

    x, c = tie_case()
    for cc, want in ((c, 0), (np.stack([c[3], c[2], c[2], c[0]]), 1)):
        got = preprocess.tokens(torch.from_numpy(x), W44, torch.from_numpy(cc).float())
        assert got.tolist() == [[want]]


@needs("tensorflow")
def test_ties_go_to_lowest_index_tensorflow():
    import tensorflow as tf

    from implementations.tensorflow import preprocess

    x, c = tie_case()
    for cc, want in ((c, 0), (np.stack([c[3], c[2], c[2], c[0]]), 1)):
        got = preprocess.tokens(tf.constant(x), W44, tf.constant(cc.astype(np.float32)))
        assert got.numpy().tolist() == [[want]]


def test_float32_distances_are_exact_at_the_limit():
    """The largest allowed window at the worst values: float32 expansion == int64 exact."""
    p = reference.MAX_EXACT_WINDOW
    rng = np.random.default_rng(0)
    u = rng.choice([0, 255], size=(500, p)).astype(np.float32)
    c = rng.choice([0, 255], size=(64, p)).astype(np.float32)
    d32 = (u * u).sum(1, keepdims=True) - 2 * (u @ c.T) + (c * c).sum(1)
    ui, ci = u.astype(np.int64), c.astype(np.int64)
    d64 = (ui * ui).sum(1, keepdims=True) - 2 * ui @ ci.T + (ci * ci).sum(1)
    assert (d32.astype(np.int64) == d64).all()


def test_codebook_fit_is_deterministic(mnist):
    cb = Codebook(size=16, iterations=3, sample=5000)
    a = reference.fit_codebook(mnist.train_x[:500], W44, cb, seed=0)
    b = reference.fit_codebook(mnist.train_x[:500], W44, cb, seed=0)
    assert a.dtype == np.uint8 and a.shape == (16, 16) and (a == b).all()


@needs("pytorch", "tensorflow")
def test_large_windows_take_the_float64_path_and_stay_exact(mnist):
    """Windows over MAX_EXACT_WINDOW cells (here 12x12 = 144) compute distances in float64."""
    import tensorflow as tf
    import torch

    from implementations.pytorch import preprocess as pt
    from implementations.tensorflow import preprocess as tfp

    big = Windows((12, 12), (8, 8))
    assert big.size > reference.MAX_EXACT_WINDOW
    c = reference.fit_codebook(mnist.train_x[:300], big, Codebook(size=64, iterations=3), seed=0)
    want = reference.tokens(mnist.test_x[:200], big, c)
    got_pt = pt.tokens(torch.from_numpy(mnist.test_x[:200]), big, torch.from_numpy(c).float())
    got_tf = tfp.tokens(tf.constant(mnist.test_x[:200]), big, tf.constant(c.astype(np.float32)))
    assert (got_pt.numpy() == want).all() and (got_tf.numpy() == want).all()
