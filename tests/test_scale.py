"""The scale axes: subsets, grown data, scale points, curves kept and read back, the flip finder, the
compute-matched comparison and the leaderboard's scale section. (A width-changed pipeline's parity is
test_parity's: ``spec.registered()`` holds the grid's widths.)"""

import json

import numpy as np
import pytest

from helpers import needs
from tokfrag import backbones, curves, scale, spec, stats
from tokfrag.data.store import stratified_subset


def test_subset_is_stratified_seeded_and_nested():
    labels = np.repeat(np.arange(4), [40, 80, 120, 160])
    a = stratified_subset(labels, 0.25, seed=0)
    assert np.array_equal(a, stratified_subset(labels, 0.25, seed=0))  # deterministic
    assert np.bincount(labels[a]).tolist() == [10, 20, 30, 40]  # every class at its share
    assert set(a) <= set(stratified_subset(labels, 0.5, seed=0))  # a smaller fraction is part of a larger
    assert not np.array_equal(a, stratified_subset(labels, 0.25, seed=1))  # the training seed draws it
    assert np.array_equal(stratified_subset(labels, 1.0, seed=3), np.arange(len(labels)))
    with pytest.raises(ValueError):
        stratified_subset(labels, 1.5, seed=0)


def test_scale_points_change_one_axis():
    base = spec.PIPELINES["video/token"]
    n = spec.TEMPLATE_TRAIN["video"]
    default = spec.at_scale(base, "default")
    assert default.train.total_steps(n) == base.train.total_steps(n) and default.encoder == base.encoder
    assert default.name == "video/token~default"
    data = spec.at_scale(base, "data=1/2")
    assert data.train.data_scale == 0.5
    assert data.train.total_steps(n // 2) == base.train.total_steps(n)  # the same compute at every data size
    wide = spec.at_scale(base, "width=128")
    assert (wide.encoder.width, wide.encoder.heads) == (128, 8)  # the head size holds
    assert wide.train.total_steps(n) == base.train.total_steps(n)
    long = spec.at_scale(base, "budget=4")
    assert long.train.total_steps(n) == 4 * base.train.total_steps(n)
    assert long.train.lr_at(long.train.total_steps(n) - 1, long.train.total_steps(n)) < 1e-3 * long.train.lr
    assert spec.get_pipeline("video/token+cnn~budget=4").backbone.name == "cnn"
    for bad in ("depth=2", "width=40", "data=0", "budget=x"):
        with pytest.raises(spec.UnknownName, match="AXIS=VALUE"):
            spec.at_scale(base, bad)


def test_eval_steps():
    t = spec.TrainConfig(epochs=3, batch_size=10)
    assert t.eval_steps(100) == [10, 20, 30]  # after every epoch by default
    t = spec.TrainConfig(steps=25, batch_size=10, evals=4)
    assert t.eval_steps(100) == [6, 12, 19, 25]  # evenly spaced, the last at the end


def test_video_grows_with_the_same_test_clips(tmp_path):
    from tokfrag import data

    prepared = data.load("video")
    x2, y2 = prepared.training_split(2.0, seed=0)
    x4, y4 = prepared.training_split(4.0, seed=0)
    n = len(prepared.train_y)
    assert len(y2) == 2 * n and len(y4) == 4 * n
    assert np.array_equal(x2, x4[:2 * n]) and np.array_equal(x4[:n], prepared.train_x)  # 2x is part of 4x
    assert set(np.unique(y4)) == set(range(4))
    mnist = data.load("mnist")
    with pytest.raises(data.DataError, match="only generated data"):
        mnist.training_split(2.0, seed=0)


@pytest.mark.slow
@needs("pytorch", "tensorflow")
def test_a_data_point_trains_the_same_subset_in_both_frameworks(mnist):
    from tokfrag import training

    s = spec.with_overrides(spec.at_scale(spec.PIPELINES["mnist/fragment"], "data=1/8"), steps=4, evals=2)
    runs = {fw: training.train(fw, s) for fw in ("pytorch", "tensorflow")}
    for r in runs.values():
        assert r["n_train"] == 500 and r["steps"] == 4 and [c["step"] for c in r["curve"]] == [2, 4]
        assert r["curve"][-1]["train_flops"] == r["train_flops"] == 4 * 64 * spec_flops(s)
    # the same weights, batches and subset: the same accuracy after 4 steps, to within a test sample
    assert abs(runs["pytorch"]["accuracy"] - runs["tensorflow"]["accuracy"]) <= 0.1


def spec_flops(s):
    from tokfrag import flops

    return flops.train_per_sample(s)


def test_curves_are_kept_and_read_back(tmp_path, monkeypatch):
    monkeypatch.setenv("TOKFRAG_DATA", str(tmp_path / "cache"))
    s = spec.at_scale(spec.PIPELINES["mnist/token"], "width=32")
    result = {"framework": "pytorch", "device": "cpu", "mode": "default", "precision": "fp32", "workers": 1,
              "seed": 1, "accuracy": 90.0, "train_flops": 10, "params": 5, "n_train": 4000, "curve": [
                  {"step": 1, "accuracy": 80.0, "train_flops": 5}, {"step": 2, "accuracy": 90.0, "train_flops": 10}]}
    curves.session_line("s1", curves.line(result, s))
    curves.session_line("s1", curves.line({**result, "seed": 2, "accuracy": 91.0}, s))
    folder = tmp_path / "results" / "m1"
    path = curves.collect("s1", folder, "abcdef1234")
    assert path == folder / "curves-abcdef12.jsonl"
    assert curves.collect("s1", folder, "abcdef1234") is None  # the session's file was moved in
    curves.session_line("s2", curves.line({**result, "seed": 2, "accuracy": 92.0}, s))  # a re-run of seed 2
    curves.collect("s2", folder, "abcdef1234")
    back = sorted(curves.read(tmp_path / "results"), key=lambda r: r["seed"])
    assert [(r["seed"], r["accuracy"]) for r in back] == [(1, 90.0), (2, 92.0)]
    assert back[0]["machine"] == "m1" and back[0]["commit"] == "abcdef12"
    assert back[0]["scale"] == "width=32" and back[0]["width"] == 32 and back[0]["curve"][0]["accuracy"] == 80.0
    (folder / "curves-bad.jsonl").write_text("{not json\n")
    with pytest.raises(ValueError, match="curves-bad.jsonl, line 1"):
        curves.read(tmp_path / "results")


def fake_runs(axis: str, values: list[str], token: dict, fragment: dict, dataset="video", backbone="transformer"):
    """Curve lines of a synthetic grid: ``token[label]`` / ``fragment[label]`` are accuracies per seed."""
    out = []
    for label in ["default", *values]:
        for rep, acc in (("token", token), ("fragment", fragment)):
            for seed, a in enumerate(acc[label]):
                k = 1.0 if label == "default" else spec.parse_point(label)[1]
                out.append({"machine": "m", "device": "cpu", "framework": "pytorch", "dataset": dataset,
                            "backbone": backbone, "representation": rep, "scale": label, "seed": seed,
                            "accuracy": a, "n_train": 2000 * k if axis == "data" else 2000,
                            "params": 1000 * k if axis == "width" else 1000, "width": 64,
                            "train_flops": (1e12 if rep == "token" else 1.2e12) * (k if axis == "budget" else 1),
                            "curve": [{"train_flops": 1e11, "accuracy": a - 5}, {"train_flops": 1e12, "accuracy": a}]})
    return out


def finding(runs, axis):
    (g,) = scale.groups(runs)
    return scale.describe(axis, g.axes[axis])


def test_flip_finder_sees_a_clear_crossing():
    runs = fake_runs("data", ["data=1/2", "data=2"], token={"data=1/2": [40, 41, 42], "default": [50, 50, 51],
                                                            "data=2": [70, 71, 72]},
                     fragment={"data=1/2": [50, 51, 52], "default": [50, 51, 50], "data=2": [60, 61, 62]})
    f = finding(runs, "data")
    assert f.kind == "flip"
    assert "fragment better at data=1/2 (-10.0" in f.text and "token better at data=2 (+10.0" in f.text
    assert "flips along data" in scale.headline("video", [(scale.groups(runs)[0], {"data": f})])


def test_flip_finder_without_a_crossing_says_how_the_gap_moves():
    runs = fake_runs("budget", ["budget=2", "budget=4"],
                     fragment={"default": [60, 61, 62], "budget=2": [62, 63, 64], "budget=4": [63, 64, 65]},
                     token={"default": [40, 41, 42], "budget=2": [50, 51, 53], "budget=4": [57, 58, 60]})
    f = finding(runs, "budget")
    assert f.kind == "narrows" and "no flip within the measured range (budget=1 to budget=4)" in f.text
    assert "fragment better at 3 of 3 points" in f.text


def test_the_headline_says_who_leads_where():
    runs = fake_runs("budget", ["budget=2", "budget=4"],
                     fragment={"default": [60, 61, 62], "budget=2": [62, 63, 64], "budget=4": [63, 64, 65]},
                     token={"default": [40, 41, 42], "budget=2": [50, 51, 53], "budget=4": [57, 58, 60]})
    (g,) = scale.groups(runs)
    line = scale.headline("video", [(g, {"budget": scale.describe("budget", g.axes["budget"])})])
    assert "under the transformer in pytorch fragment ahead at 3 of 3 points (-20.0 to -5.7)" in line
    noise = fake_runs("width", ["width=32", "width=128"],
                      token={"width=32": [48, 55, 50], "default": [50, 52, 49], "width=128": [55, 47, 52]},
                      fragment={"width=32": [50, 51, 53], "default": [51, 50, 50], "width=128": [50, 49, 51]})
    (g,) = scale.groups(noise)
    assert "ahead" not in scale.headline("video", [(g, {"width": scale.describe("width", g.axes["width"])})])


def test_a_crossing_inside_the_noise_is_not_a_flip():
    runs = fake_runs("width", ["width=32", "width=128"],
                     token={"width=32": [48, 55, 50], "default": [50, 52, 49], "width=128": [55, 47, 52]},
                     fragment={"width=32": [50, 51, 53], "default": [51, 50, 50], "width=128": [50, 49, 51]})
    (g,) = scale.groups(runs)
    estimates = [p.diff.estimate for p in g.axes["width"]]
    assert min(estimates) < 0 < max(estimates)  # the estimate does change sign...
    f = scale.describe("width", g.axes["width"])
    assert f.kind == "not separated" and "inside the noise" in f.text  # ...and is reported as noise
    assert all(p.verdict == stats.NO_CLEAR for p in g.axes["width"])


def test_compute_matched_interpolates_the_token_at_the_fragment_budgets():
    runs = fake_runs("budget", ["budget=2", "budget=4"],
                     fragment={"default": [60, 60, 60], "budget=2": [70, 71, 72], "budget=4": [80, 80, 80]},
                     token={"default": [50, 50, 50], "budget=2": [60, 60, 60], "budget=4": [70, 70, 70]})
    (g,) = scale.groups(runs)
    m = scale.compute_matched(g)
    # fragment FLOPs 1.2e12, 2.4e12, 4.8e12; the token's range is 1e12..4e12: the last is outside it
    assert [x.fragment_label for x in m] == ["budget=1", "budget=2"]
    w = np.log(1.2) / np.log(2)  # 1.2e12 lies this far from 1e12 to 2e12 in log FLOPs
    assert m[0].token.mean == pytest.approx(50 + 10 * w)
    assert m[0].diff.estimate == pytest.approx(50 + 10 * w - 60)
    targets = {t.representation: t for t in scale.target(g)}
    assert targets["fragment"].reached_at == "budget=4" and targets["token"].reached_at is None
    assert targets["fragment"].text.startswith("fragment reaches the 80% target at budget=4")
    assert targets["token"].text.startswith("token never reaches the 80% target; best 70.0%")
    wide = fake_runs("data", ["data=4"], fragment={"default": [60, 60, 60], "data=4": [81, 82, 83]},
                     token={"default": [50, 50, 50], "data=4": [60, 60, 60]})
    (t,) = [t for t in scale.target(scale.groups(wide)[0]) if t.representation == "fragment"]
    assert t.reached_at is None and t.elsewhere == ("data=4",) and "at data=4, at no budget point" in t.text
    assert targets["token"].best == 70 and targets["token"].best_at == "budget=4"


def test_leaderboard_scale_section(tmp_path):
    from tokfrag.leaderboard import scale_view
    from tokfrag.leaderboard.board import Board

    runs = fake_runs("budget", ["budget=2", "budget=4"],
                     fragment={"default": [60, 61, 62], "budget=2": [62, 63, 64], "budget=4": [63, 64, 65]},
                     token={"default": [40, 41, 42], "budget=2": [50, 51, 53], "budget=4": [57, 58, 60]})
    runs += fake_runs("width", ["width=32"], fragment={"default": [60, 61, 62], "width=32": [55, 55, 56]},
                      token={"default": [40, 41, 42], "width=32": [30, 31, 33]}, backbone="cnn")
    html = scale_view.sections(Board(rows=[], machines={}, curves=runs))
    assert html.count("<svg") == 2 + 4  # FLOPs and parameters plots, four legend swatches
    assert "video at every scale" in html and "no flip within the measured range" in html
    assert 'data-backbone="cnn"' in html and 'data-framework="pytorch"' in html and 'tabindex="0"' in html
    assert "95% CI" in html and "▼ -20.0 [" in html
    assert scale_view.sections(Board(rows=[], machines={}, curves=[{**runs[0], "scale": ""}])) == ""
    json.dumps(runs)  # curve lines stay JSON


def test_the_committed_scale_report_is_the_results():
    """docs/scale-results.md is generated (`tokfrag publish --docs`) from the committed curves."""
    from pathlib import Path

    from tokfrag.leaderboard import model, writeup

    repo = Path(__file__).resolve().parents[1]
    board = model.build(repo / "results")
    path = repo / "docs" / writeup.SCALE_DOC
    if any(c.get("scale") for c in board.curves):
        assert path.read_text(encoding="utf-8") == writeup.scale_doc(board), f"{path} is stale: tokfrag publish --docs"
    else:
        assert not path.exists(), f"{path} describes no committed result"


def test_publish_exports_curves_and_the_scale_report(tmp_path, capsys):
    from tokfrag.leaderboard import export, writeup
    from tokfrag.leaderboard.board import Board

    runs = fake_runs("width", ["width=32"], fragment={"default": [60, 61, 62], "width=32": [55, 55, 56]},
                     token={"default": [40, 41, 42], "width=32": [30, 31, 33]})
    board = Board(rows=[], machines={}, curves=runs)
    assert json.loads(export.curves_to_json(board)) == runs
    doc = writeup.scale_doc(board)
    assert "### video" in doc and "width: width=32 -24.0 [-26.5, -21.5], width=64 -20.0" in doc
    assert "video: no flip within the measured range (width)" in writeup.scale_answer(board)


def test_scale_parts_split_the_grid_by_axis():
    import re

    from tokfrag import cli

    def combos(part):
        regexes = cli.scale_selection(part)
        names = [f"bench_scale.Training.track_accuracy('{fw}', '{p}', '{b}', '{pt}', 'cpu', {s})"
                 for fw in ("pytorch", "tensorflow") for p in ("video/fragment", "video/token", "mnist/token")
                 for b in backbones.names() for pt in spec.scale_points() for s in (0, 1, 2)]
        return {n for n in names if any(re.search(r, n) for r in regexes)}

    whole = combos("video:transformer")
    axes = [combos(f"video:transformer:{a}") for a in spec.SCALE_AXES]
    assert set().union(*axes) == whole and sum(map(len, axes)) == len(whole)  # a partition: nothing twice
    assert len(whole) == 2 * 3 * 7 + 2 * 3 * 2  # 2 pipelines x 3 seeds x 7 points, and the TensorFlow cross-check
    assert all("mnist" not in n and "'cnn'" not in n for n in whole)
    assert all("'pytorch'" in n for n in combos("video:cnn"))  # the cross-check is the transformer's
    with pytest.raises(cli.UsageError, match="DATASET"):
        cli.scale_selection("video:transformer:depth")


def test_the_other_framework_checks_the_grid_at_its_points():
    runs = fake_runs("width", ["width=32"], fragment={"default": [60, 61, 62], "width=32": [55, 55, 56]},
                     token={"default": [40, 41, 42], "width=32": [30, 31, 33]})
    tf = [{**r, "framework": "tensorflow", "accuracy": r["accuracy"] + 0.5 * (r["seed"] - 1)}
          for r in runs if r["scale"] == "width=32"]
    gs = scale.groups(runs + tf)
    assert [g.framework for g in gs if g.axes] == ["pytorch"]  # single points: no axis of their own
    (line,) = scale.cross_check(gs)
    assert line.startswith("tensorflow cross-check (transformer, width=32; 6 runs): tensorflow - pytorch accuracy "
                           "+0.0 [")
