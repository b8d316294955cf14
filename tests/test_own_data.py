"""Data of one's own, end to end: prepared under its own name with the shapes and classes of the data,
trained in both frameworks, equivalent across them, refused when broken, never mistaken for other data.

Every test builds its tiny data in tmp_path and prepares it into a cache of its own (``scratch_cache``).
"""

import gzip
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from helpers import needs, write_idx
from tokfrag import catalog, cli, data, flops, params, parity, spec
from tokfrag.errors import DataError, UnknownName, UsageError

REPO = Path(__file__).resolve().parents[1]


# --- tiny sources ----------------------------------------------------------------------

def png_folder(root: Path, n: int = 12, size: int = 20) -> Path:
    """2 classes (``across``: a bright row; ``down``: a bright column), n greyscale PNGs each, one
    RGB JPEG of another size among them (converted to grey and resized)."""
    from PIL import Image

    rng = np.random.default_rng(0)
    for cls in ("across", "down"):
        (root / cls).mkdir(parents=True)
        for i in range(n):
            img = rng.integers(0, 40, (size, size), dtype=np.uint8)
            k = rng.integers(2, size - 2)
            if cls == "across":
                img[k] = 255
            else:
                img[:, k] = 255
            Image.fromarray(img).save(root / cls / f"{i}.png")
    Image.fromarray(np.full((2 * size, 2 * size, 3), 128, np.uint8)).save(root / "down" / "big.jpg")
    (root / "down" / "notes.txt").write_text("not an image: ignored")
    return root


def idx_letters(root: Path, classes: int = 26, per_class: int = (6, 2), shape=(12, 14)) -> Path:
    """EMNIST-letters-like IDX files: labels 1..26 (mapped to 0..25), 12x14 images, gzipped images,
    the source's own test split."""
    root.mkdir(parents=True)
    rng = np.random.default_rng(1)
    for split, n in zip(("train", "t10k"), per_class):
        y = np.repeat(np.arange(1, classes + 1), n)
        x = rng.integers(0, 256, (len(y), *shape), dtype=np.uint8)
        write_idx(root / f"emnist-letters-{split}-images-idx3-ubyte", x, gz=True)
        write_idx(root / f"emnist-letters-{split}-labels-idx1-ubyte", y)
    return root


def text_frame(classes, per_class: int = 10) -> pd.DataFrame:
    words = ["alpha", "beta", "gamma", "delta", "omega", "sigma", "kappa"]
    rows = [{"body": f"item {i} says {words[c % len(words)]} {words[c % len(words)]} and more", "y": label}
            for c, label in enumerate(classes) for i in range(per_class)]
    return pd.DataFrame(rows)


def clips_npz(path: Path, n: int = 30, classes=("still", "slow", "fast")) -> Path:
    """4-frame 32x32 uint8 clips: a bright square moving 0, 2 or 4 pixels per frame; string labels."""
    rng = np.random.default_rng(2)
    x = np.zeros((n, 4, 32, 32), np.uint8)
    y = np.array([classes[i % len(classes)] for i in range(n)])
    for i in range(n):
        speed = 2 * (i % len(classes))
        r, c = rng.integers(0, 12, 2)
        for t in range(4):
            x[i, t, r:r + 6, c + speed * t:c + speed * t + 6] = 255
    np.savez(path, clips=x, labels=y)
    return path


# --- the spec: shapes and classes from the data, hyperparameters from the template ---------------

def test_user_pipelines_take_the_shapes_from_the_meta_and_the_rest_from_the_template():
    meta = {"dataset": "big", "kind": "image", "shape": [28, 28], "classes": [chr(97 + i) for i in range(26)],
            "splits": {"train": 60000, "test": 10000}, "data_sha256": "ab" * 32}
    pipes = spec.user_pipelines(meta)
    assert list(pipes) == ["big/fragment", "big/token"]
    tok, template = pipes["big/token"], spec.PIPELINES["mnist/token"]
    assert tok.dataset.num_classes == 26 and tok.dataset.classes[-1] == "z" and tok.dataset.fingerprint == "ab" * 32
    assert (tok.windows, tok.codebook, tok.encoder) == (template.windows, template.codebook, template.encoder)
    assert (tok.train.lr, tok.train.batch_size, tok.train.max_shift) == (template.train.lr, 64, 2)
    assert tok.train.epochs == 2  # the template's 30 x 62 = 1,860 steps: 2 epochs of 937 steps on 60,000 images
    small = spec.user_pipelines({**meta, "splits": {"train": 20, "test": 5}})
    assert small["big/token"].train.epochs == 1860 and small["big/token"].codebook.size == 20 * 16  # 1 step/epoch
    text = spec.user_pipelines({"dataset": "t", "kind": "text", "shape": [1000], "classes": ["a", "b"],
                                "splits": {"train": 100, "test": 20}})
    assert text["t/fragment"].seq_len == text["t/token"].seq_len == spec.MAX_TEXT_UNITS
    assert text["t/fragment"].dataset.signal_shape == (8 * spec.MAX_TEXT_UNITS,)
    with pytest.raises(ValueError, match="2 or more"):
        spec.user_pipelines({**meta, "classes": ["a"]})
    with pytest.raises(ValueError, match="unknown kind"):
        spec.user_pipelines({**meta, "kind": "audio"})


# --- preparing: names, shapes, classes, fingerprints --------------------------------------------

def test_image_folder_prepares_under_its_own_name_with_its_classes_and_size(scratch_cache, tmp_path):
    src = png_folder(tmp_path / "shapes")
    path = data.prepare_source("image", str(src), quiet=True)
    assert path == scratch_cache / "shapes"  # the name comes from the folder
    meta = data.user_meta("shapes")
    assert meta["kind"] == "image" and meta["shape"] == [20, 20] and meta["classes"] == ["across", "down"]
    assert meta["splits"] == {"train": 20, "test": 5} and meta["split"]["from"] == "stratified"
    loaded = data.load("shapes")
    assert loaded.train_x.shape == (20, 20, 20) and loaded.train_x.dtype == np.uint8
    assert loaded.classes == ("across", "down") and loaded.fingerprint == meta["data_sha256"]
    p = catalog.get_pipeline("shapes/token")
    assert p.dataset.num_classes == 2 and p.dataset.signal_shape == (20, 20)
    assert p.grid == (3, 3) and p.seq_len == 9  # 7x7 windows, the last row and column padded
    assert p.codebook.size == 20 * 9  # capped at the training windows
    assert params.shapes(p)["head.weight"] == (2, 64)
    assert flops.breakdown(p)["head"] == 2 * 64 * 2
    assert list(catalog.get_pipeline("shapes/token+cnn").backbone.kernel) == [3, 3]


def test_idx_of_any_size_and_label_set_keeps_its_split_and_maps_labels(scratch_cache, tmp_path):
    src = idx_letters(tmp_path / "letters")
    data.prepare_source("image", str(src), name="letters", quiet=True)
    meta = data.user_meta("letters")
    assert meta["shape"] == [12, 14] and len(meta["classes"]) == 26 and meta["classes"][0] == "1"
    assert meta["label_map"]["1"] == 0 and meta["label_map"]["26"] == 25  # 1..26 -> 0..25, stored
    assert meta["split"] == {"from": "source"} and meta["splits"] == {"train": 156, "test": 52}
    loaded = data.load("letters")
    assert sorted(set(loaded.test_y)) == list(range(26))
    p = catalog.get_pipeline("letters/fragment")
    assert p.dataset.num_classes == 26 and p.grid == (2, 2)


def test_text_labels_strings_or_sparse_integers(scratch_cache, tmp_path):
    jsonl = tmp_path / "reviews.jsonl"
    text_frame(["awful", "bad", "fine", "good", "great"]).to_json(jsonl, orient="records", lines=True)
    data.prepare_source("text", str(jsonl), text_column="body", label_column="y", quiet=True)
    meta = data.user_meta("reviews")
    assert meta["classes"] == ["awful", "bad", "fine", "good", "great"] and meta["kind"] == "text"
    csv = tmp_path / "Topics 2024.csv"
    text_frame([3, 10, 20, 33, 41, 50, 99]).to_csv(csv, index=False)
    data.prepare_source("text", str(csv), text_column="body", label_column="y", quiet=True)
    meta = data.user_meta("topics-2024")  # derived, lower case, a dash for the space
    assert meta["classes"] == ["3", "10", "20", "33", "41", "50", "99"]  # numeric order, not "10" < "3"
    assert meta["label_map"] == {"3": 0, "10": 1, "20": 2, "33": 3, "41": 4, "50": 5, "99": 6}
    p = catalog.get_pipeline("topics-2024/token")
    longest = max(len(t.encode()) for t in data.load("topics-2024").train_x)
    assert p.dataset.num_classes == 7 and p.dataset.signal_shape[0] >= longest * 0.9
    assert p.seq_len == catalog.get_pipeline("topics-2024/fragment").seq_len == p.dataset.signal_shape[0] // 8
    assert set(data.user_metas()) == {"reviews", "topics-2024"}  # several coexist


def test_clips_of_any_shape(scratch_cache, tmp_path):
    data.prepare_source("video", str(clips_npz(tmp_path / "moves.npz")), quiet=True)
    meta = data.user_meta("moves")
    assert meta["shape"] == [4, 32, 32] and meta["classes"] == ["fast", "slow", "still"]
    p = catalog.get_pipeline("moves/token")
    assert p.grid == (2, 2, 2) and p.dataset.num_classes == 3


def test_names_are_never_the_embedded_ones_and_same_source_is_a_noop(scratch_cache, tmp_path, capsys):
    src = png_folder(tmp_path / "mnist")
    with pytest.raises(UsageError, match="name of an embedded dataset"):
        data.prepare_source("image", str(src), quiet=True)
    with pytest.raises(UsageError, match="embedded"):
        data.prepare_source("image", str(src), name="text", quiet=True)
    assert not scratch_cache.exists() or not any(scratch_cache.iterdir())
    data.prepare_source("mnist", str(src), name="my-digits", quiet=True)  # `prepare mnist --source` still works
    stamp = (scratch_cache / "my-digits" / "meta.json").stat().st_mtime_ns
    capsys.readouterr()
    data.prepare_source("image", str(src), name="my-digits")
    assert "nothing to do" in capsys.readouterr().err
    assert (scratch_cache / "my-digits" / "meta.json").stat().st_mtime_ns == stamp
    other = png_folder(tmp_path / "other", n=8)
    with pytest.raises(UsageError, match="(?s)already holds.*--force"):
        data.prepare_source("image", str(other), name="my-digits", quiet=True)
    data.prepare_source("image", str(other), name="my-digits", force=True, quiet=True)
    assert data.user_meta("my-digits")["splits"]["train"] == 13  # replaced: 8 + 9 images, 4 of them for testing
    with pytest.raises(DataError, match="prepare image --source"):
        data.prepare("mnist", source=str(src), quiet=True)  # the embedded name takes no source


def test_fingerprint_follows_the_data_not_the_files(scratch_cache, tmp_path):
    a = tmp_path / "a.jsonl"
    text_frame(["x", "y"]).to_json(a, orient="records", lines=True)
    b = tmp_path / "b.csv"
    text_frame(["x", "y"]).to_csv(b, index=False)
    c = tmp_path / "c.csv"
    text_frame(["x", "z"]).to_csv(c, index=False)
    fps = {}
    for path in (a, b, c):
        data.prepare_source("text", str(path), text_column="body", label_column="y", quiet=True)
        fps[path.stem] = data.user_meta(path.stem)["data_sha256"]
    assert fps["a"] == fps["b"] != fps["c"]  # same rows from JSON lines or CSV; another class name differs
    data.store._LOADED.clear()
    loaded = data.load("a")
    assert loaded._fingerprint == "" and loaded.fingerprint == fps["a"]
    assert data.store.data_fingerprint(loaded.train_x, loaded.train_y, loaded.test_x, loaded.test_y,
                                       loaded.classes) == fps["a"]  # recomputed from the arrays, the same


def test_cli_prepare_prints_classes_mapping_and_pipelines(scratch_cache, tmp_path, capsys):
    csv = tmp_path / "topics.csv"
    text_frame([3, 10, 20, 33, 41]).to_csv(csv, index=False)
    assert cli.main(["prepare", "text", "--source", str(csv), "--text-column", "body", "--label-column", "y",
                     "--target", "50"]) == 0
    out = capsys.readouterr().out
    assert "prepared: topics (text)" in out and "classes: 5: 3, 10, 20, 33, 41" in out
    assert "3 -> 0" in out and "pipeline topics/token" in out and "data sha256: " in out
    assert catalog.get_pipeline("topics/fragment").dataset.target_accuracy == 50.0
    assert cli.main(["info"]) == 0
    assert "topics/fragment" in capsys.readouterr().out
    assert cli.main(["prepare", "text", "--name", "x"]) == 2
    assert "need(s) --source" in capsys.readouterr().err
    assert cli.main(["train", "nothing/fragment"]) == 2
    assert "no dataset 'nothing' is prepared" in capsys.readouterr().err


# --- bad input: a clear error, nothing written -----------------------------------------------

def _refused(scratch_cache, kind, source, match, **kw):
    with pytest.raises((DataError, UsageError), match=match) as e:
        data.prepare_source(kind, str(source), name="bad", quiet=True, **kw)
    assert "Fix:" in str(e.value) or "--" in str(e.value)
    assert not (scratch_cache / "bad").exists()
    assert not list(scratch_cache.glob(".bad-*")) if scratch_cache.exists() else True
    return str(e.value)


def test_one_class_only(scratch_cache, tmp_path):
    path = tmp_path / "one.csv"
    text_frame(["same"]).to_csv(path, index=False)
    msg = _refused(scratch_cache, "text", path, "one class only", text_column="body", label_column="y")
    assert str(path) in msg


def test_images_and_labels_of_different_counts(scratch_cache, tmp_path):
    src = idx_letters(tmp_path / "idx", classes=3)
    write_idx(src / "emnist-letters-train-labels-idx1-ubyte", np.arange(1, 4).repeat(5))  # 15 labels for 18 images
    msg = _refused(scratch_cache, "image", src, "18 images but")
    assert "15 labels" in msg


def test_idx_wrong_magic_and_truncated(scratch_cache, tmp_path):
    src = idx_letters(tmp_path / "idx", classes=3)
    bad = write_idx(src / "emnist-letters-t10k-labels-idx1-ubyte", np.arange(1, 4).repeat(2), magic=b"\x00\x00\x0d\x01")
    msg = _refused(scratch_cache, "image", src, "wrong magic number")
    assert str(bad) in msg and "000d01" in msg
    write_idx(bad, np.arange(1, 4).repeat(2))
    images = src / "emnist-letters-train-images-idx3-ubyte.gz"
    raw = gzip.decompress(images.read_bytes())
    images.write_bytes(gzip.compress(raw[:-7]))
    msg = _refused(scratch_cache, "image", src, "truncated")
    assert str(images) in msg


def test_image_folder_with_no_images_or_an_unreadable_one(scratch_cache, tmp_path):
    src = tmp_path / "pics"
    (src / "a").mkdir(parents=True)
    (src / "b").mkdir()
    (src / "a" / "readme.txt").write_text("no images here")
    _refused(scratch_cache, "image", src, "no images")
    png_folder(tmp_path / "pics2")
    broken = tmp_path / "pics2" / "down" / "7.png"
    broken.write_bytes(b"\x89PNG not really")
    msg = _refused(scratch_cache, "image", tmp_path / "pics2", "cannot be read as an image")
    assert str(broken) in msg


def test_text_column_with_non_text_values(scratch_cache, tmp_path):
    df = text_frame(["a", "b"])
    df["body"] = df["body"].astype(object)
    df.loc[3, "body"] = 12345
    path = tmp_path / "mixed.jsonl"
    df.to_json(path, orient="records", lines=True)
    msg = _refused(scratch_cache, "text", path, "row 4, column 'body' holds 12345", text_column="body",
                   label_column="y")
    assert "not text" in msg and str(path) in msg


def test_label_column_with_missing_values(scratch_cache, tmp_path):
    df = text_frame(["a", "b"])
    df.loc[5, "y"] = ""
    path = tmp_path / "unlabelled.csv"
    df.to_csv(path, index=False)
    _refused(scratch_cache, "text", path, "row 7 has no label in column 'y'", text_column="body", label_column="y")
    jsonl = tmp_path / "unlabelled.jsonl"
    jsonl.write_text('{"body": "one text", "y": "a"}\n{"body": "two text", "y": null}\n')
    _refused(scratch_cache, "text", jsonl, "row 2 has no label", text_column="body", label_column="y")


@pytest.mark.parametrize("kind,name", [("text", "empty.csv"), ("text", "empty.jsonl"), ("video", "empty.npz")])
def test_empty_file(scratch_cache, tmp_path, kind, name):
    path = tmp_path / name
    path.write_bytes(b"")
    msg = _refused(scratch_cache, kind, path, "empty")
    assert str(path) in msg


def test_empty_idx_file(scratch_cache, tmp_path):
    src = idx_letters(tmp_path / "idx", classes=3)
    empty = src / "emnist-letters-train-labels-idx1-ubyte"
    empty.write_bytes(b"")
    assert str(empty) in _refused(scratch_cache, "image", src, "empty")


def test_clips_that_are_not_uint8_or_miscounted(scratch_cache, tmp_path):
    x = np.zeros((6, 4, 8, 8), np.float32)
    np.savez(tmp_path / "floats.npz", clips=x, labels=np.arange(6) % 2)
    _refused(scratch_cache, "video", tmp_path / "floats.npz", "float32; expected uint8")
    np.savez(tmp_path / "short.npz", clips=x.astype(np.uint8), labels=np.arange(5) % 2)
    _refused(scratch_cache, "video", tmp_path / "short.npz", "6 clips")


def test_stale_cache_is_an_error_not_a_crash(scratch_cache, tmp_path):
    src = png_folder(tmp_path / "shapes")
    data.prepare_source("image", str(src), quiet=True)
    spec_then = catalog.get_pipeline("shapes/fragment")
    data.prepare_source("image", str(idx_letters(tmp_path / "idx", classes=3)), name="shapes", force=True, quiet=True)
    data.store._LOADED.clear()
    with pytest.raises(DataError, match="holds 3 classes .* where shapes/fragment has 2"):
        data.load("shapes").check(spec_then)  # what training and parity call first


def test_leaderboard_shows_which_data_each_machine_measured(tmp_path):
    """The fingerprints recorded with the results (data_<name>) open each dataset's section; machines that
    measured different data under one name are called out."""
    import shutil
    import warnings

    from tokfrag import leaderboard
    from tokfrag.leaderboard import render

    fixture = REPO / "tests" / "data" / "compare" / "results"
    doc = json.loads(next((fixture / "fixture").glob("*-*.json")).read_text())
    root = tmp_path / "results"
    root.mkdir()
    shutil.copy(fixture / "benchmarks.json", root / "benchmarks.json")
    for machine, fp in (("one", "a" * 64), ("two", "b" * 64)):
        (root / machine).mkdir()
        doc["params"].update(machine=machine, data_mnist=fp)
        (root / machine / "48de5dd2-existing-py.json").write_text(json.dumps(doc))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        board = leaderboard.build(root)
    assert board.data == {"mnist": {"one": "a" * 64, "two": "b" * 64}}
    html = render.page(board)
    assert "Data sha256: aaaaaaaaaaaa (one); bbbbbbbbbbbb (two)" in html and "Different data under one name" in html


# --- training and parity of the user pipelines ----------------------------------------------

@pytest.fixture
def own_sets(scratch_cache, tmp_path):
    """The sources the issue names: a 2-class folder of 32x32 PNGs, a 26-class 28x28 IDX set, a
    5-class text CSV (sparse integer labels), and 4-frame 32x32 clips."""
    png_folder(tmp_path / "shapes", size=32)
    data.prepare_source("image", str(tmp_path / "shapes"), quiet=True)
    idx_letters(tmp_path / "letters", shape=(28, 28))
    data.prepare_source("image", str(tmp_path / "letters"), quiet=True)
    path = tmp_path / "topics.csv"
    text_frame([3, 10, 20, 33, 41]).to_csv(path, index=False)
    data.prepare_source("text", str(path), text_column="body", label_column="y", quiet=True)
    data.prepare_source("video", str(clips_npz(tmp_path / "moves.npz")), quiet=True)
    return ["shapes", "letters", "topics", "moves"]


@needs("pytorch", "tensorflow")
def test_one_epoch_in_both_frameworks(own_sets, capsys):
    for name in own_sets:
        for rep in ("fragment", "token"):
            assert cli.main(["train", f"{name}/{rep}", "--epochs", "1"]) == 0, (name, rep)
            out = capsys.readouterr().out
            lines = [line for line in out.splitlines() if f"{name}/{rep}" in line]
            assert len(lines) == 2 and "pytorch" in lines[0] and "tensorflow" in lines[1], out
            assert all("accuracy" in line for line in lines)


@needs("pytorch", "tensorflow")
@pytest.mark.parametrize("pipeline", ["shapes/fragment", "shapes/token", "letters/token", "topics/fragment",
                                      "topics/token", "moves/fragment", "moves/token"])
def test_parity_of_user_pipelines(own_sets, pipeline):
    rows = parity.check_pipeline(catalog.get_pipeline(pipeline))
    failed = [f"{r.check}: {r.max_diff} ({r.detail})" for r in rows if r.status != "pass"]
    assert len(rows) == len(parity.CHECKS) and not failed, failed


def test_parity_dataset_option_covers_every_backbone(own_sets, monkeypatch, capsys):
    """`tokfrag parity --dataset NAME`: the dataset's pipelines under every backbone, checked together with
    any named ones (the checks themselves: test_parity_of_user_pipelines)."""
    assert parity.dataset_pipelines("shapes") == ["shapes/fragment", "shapes/token"] + [
        f"shapes/{rep}+{b}" for rep in ("fragment", "token") for b in ("cnn", "lstm", "gnn")]
    asked = []
    monkeypatch.setattr(parity, "run", lambda names, workers=0: asked.append(names) or parity.Report())
    assert cli.main(["parity", "mnist/token", "--dataset", "topics", "--dataset", "topics"]) == 0
    assert asked == [["mnist/token", *parity.dataset_pipelines("topics")]]  # each once
    assert cli.main(["parity", "--dataset", "nothing"]) == 2
    assert "tokfrag prepare KIND" in capsys.readouterr().err


def test_suite_parameters_follow_the_selected_datasets(own_sets, monkeypatch):
    code = "from benchmarks import common; print(','.join(common.PIPELINE_NAMES))"
    env = dict(os.environ, TOKFRAG_DATASETS="shapes,mnist", PYTHONPATH=os.pathsep.join(
        [str(REPO)] + ([os.environ["PYTHONPATH"]] if os.environ.get("PYTHONPATH") else [])))
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, env=env, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "shapes/fragment,shapes/token,mnist/fragment,mnist/token"
    env.pop("TOKFRAG_DATASETS")
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, env=env, capture_output=True, text=True)
    assert out.stdout.strip().split(",") == list(spec.PIPELINES)
    with pytest.raises(UnknownName, match="tokfrag prepare KIND"):
        catalog.pipelines_of("nothing")
    assert cli.main(["bench", "--dataset", "nothing"]) == 2  # refused before anything runs
    params = data.params(["shapes", "moves"])  # what `tokfrag bench --dataset` records with the results
    assert params == {"data_shapes": data.user_meta("shapes")["data_sha256"],
                      "data_moves": data.user_meta("moves")["data_sha256"]}


@pytest.mark.slow
@needs("pytorch", "tensorflow")
def test_bench_smoke_on_user_data_and_compare_across_data(own_sets, scratch_cache, tmp_path):
    """`tokfrag bench --smoke --dataset ...` on the PNG folder, the IDX set and the CSV at once, in a
    checkout of its own: the results carry each name (the pipeline) and its fingerprint (the machine
    parameter data_<name>); the leaderboard shows each under its name; two results measured on
    different data under one name are refused by the gate."""
    import copy
    import warnings

    from helpers import checkout_copy
    from tokfrag import compare, leaderboard, results
    from tokfrag.errors import CompareError

    if subprocess.run(["git", "rev-parse", "HEAD"], cwd=REPO, capture_output=True).returncode != 0:
        pytest.skip("not a git checkout")
    checkout = checkout_copy(tmp_path / "checkout")
    home = tmp_path / "home"
    home.mkdir()
    env = dict(os.environ, HOME=str(home), TOKFRAG_DATA=str(scratch_cache))
    for var in ("PYTHONPATH", "ASV_PYTHONPATH"):  # the copy's tokfrag, in this process and in asv's
        env[var] = os.pathsep.join([str(checkout)] + ([env[var]] if env.get(var) else []))
    names = ["shapes", "letters", "topics"]
    r = subprocess.run([sys.executable, "-m", "tokfrag.cli", "bench", "--smoke", "--seeds", "1", "--machine", "smoke",
                        *[a for n in names for a in ("--dataset", n)],
                        # the default backbone only: the others add 4x the runs and nothing this test reads
                        "-b", r"^bench_pipelines\.Training\.track_accuracy\(.*'cpu'",
                        "-b", r"^bench_pipelines\.Step\.time_train_step\(.*'shapes/fragment'"],
                       cwd=checkout, env=env, capture_output=True, text=True, timeout=1800)
    assert r.returncode == 0, r.stdout[-4000:] + r.stderr[-4000:]
    (path,) = (checkout / "results" / "smoke").glob("*-existing-*.json")
    doc = json.loads(path.read_text())
    fingerprints = {n: data.load(n).fingerprint for n in names}
    assert {n: doc["params"][f"data_{n}"] for n in names} == fingerprints

    rows = [row for row in results.read_file(path) if row["status"] == "ok"]
    acc = [row for row in rows if row["benchmark"].endswith("Training.track_accuracy")]
    assert {row["params"][:2] for row in acc} == {(fw, f"{n}/{rep}") for fw in ("pytorch", "tensorflow")
                                                  for n in names for rep in ("fragment", "token")}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        board = leaderboard.build(checkout / "results")
    for n in names:
        assert n in board.datasets() and board.data[n] == {"smoke": fingerprints[n]}
        assert {row.param_count for row in board.datasets()[n]} >= {params.count(catalog.get_pipeline(f"{n}/token"))}
    from tokfrag.leaderboard import render

    html = render.page(board)
    assert all(f"{fingerprints[n][:12]} (smoke)" in html for n in names)

    same = compare.compare(path, path)
    assert same.rows
    other = copy.deepcopy(doc)
    other["params"]["data_shapes"] = "0" * 64
    head = tmp_path / "head" / "smoke" / path.name
    head.parent.mkdir(parents=True)
    (tmp_path / "head" / "benchmarks.json").write_text((checkout / "results" / "benchmarks.json").read_text())
    head.write_text(json.dumps(other))
    with pytest.raises(CompareError, match="different data under one dataset name: shapes"):
        compare.compare(path, head)
