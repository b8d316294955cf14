"""The leaderboard, built from small synthetic asv results: content, untrusted input, exports, CLI."""

import csv
import io
import json
import math
import os
import subprocess
import sys
import warnings
from html.parser import HTMLParser
from pathlib import Path

import pytest

from helpers import (
    BENCHMARKS,
    COMMIT,
    COMMIT_OLD,
    DATE_MS,
    DAY_MS,
    SCALING,
    STEP,
    VALUES,
    metric,
    results_frame,
    write_results,
)
from tokfrag import leaderboard, params, results, spec, stats
from tokfrag.errors import UsageError
from tokfrag.leaderboard import cli, export, model, view

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture
def results_dir(tmp_path):
    root = tmp_path / "results"
    write_results(root, "laptop", gpu=False)
    write_results(root, "gpubox")
    return root


def build(root):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        board = leaderboard.build(root)
    return board, [str(w.message) for w in caught]


class Page(HTMLParser):
    """Every start tag with its attributes, and the text of each table row, from an HTML page."""

    def __init__(self, text):
        super().__init__()
        self.tags, self.rows, self._row = [], [], None
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        if tag == "tr":
            self._row = []

    def handle_endtag(self, tag):
        if tag == "tr" and self._row is not None:
            self.rows.append(" ".join("".join(self._row).split()))
            self._row = None

    def handle_data(self, data):
        if self._row is not None:
            self._row.append(data + " ")


# --- content ---------------------------------------------------------------------------

def test_rows_cells_and_ranking(results_dir):
    board, warned = build(results_dir)
    assert not [w for w in warned if "laptop" in w and "skipped" not in w]
    # laptop: 2 fw x 2 pipelines x 2 devices (gpu skipped), gpubox: the same: 16 rows
    assert len(board.rows) == 16
    rows = board.datasets()["mnist"]
    accs = [r.value("accuracy") for r in rows if r.value("accuracy") is not None]
    assert accs == sorted(accs, reverse=True) and accs[0] == 96.0
    skipped = [r for r in rows if r.machine == "laptop" and r.device == "gpu"]
    assert len(skipped) == 4 and all(r.cells["accuracy"].status == "skipped" for r in skipped)
    tf_token = next(r for r in rows if r.machine == "gpubox" and r.device == "cpu"
                    and r.params == {"pipeline": "mnist/token", "framework": "tensorflow", "device": "cpu"})
    assert tf_token.cells["time_to_target"].status == "not reached"
    assert tf_token.param_count == params.count(spec.get_pipeline("mnist/token"))
    assert model.parity_text(tf_token.cells["parity"]) == "fail (2 checks)"
    frag = next(r for r in rows if r.pipeline == "mnist/fragment" and r.machine == "gpubox")
    assert model.parity_text(frag.cells["parity"]) == "pass"
    link = frag.cells["accuracy"].link
    assert link.startswith("index.html#bench_pipelines.Training.track_accuracy?machine=gpubox&")
    assert "p-pipeline='mnist%2Ffragment'" in link and "p-framework='pytorch'" in link


def test_latest_commit_per_machine(results_dir):
    """What the latest commit measured hides the older commit's figures of the same cells."""
    write_results(results_dir, "laptop", commit=COMMIT_OLD, date=DATE_MS - 9 * DAY_MS, gpu=False,
                  value=lambda n, p: 50.0 if "accuracy" in n and p.get("device") == "cpu" else metric(n, p))
    board, _ = build(results_dir)
    assert board.machines["laptop"].commit == COMMIT and board.machines["laptop"].earlier == []
    assert all(r.value("accuracy") != 50.0 for r in board.rows)


def test_seeds_give_mean_and_sd(tmp_path):
    write_results(tmp_path, seeds=True)
    board, _ = build(tmp_path)
    row = next(r for r in board.rows if r.params == {"pipeline": "mnist/fragment", "framework": "pytorch",
                                                      "device": "cpu"})
    cell = row.cells["accuracy"]
    assert cell.n == 3 and cell.mean == pytest.approx(96.1) and cell.sd == pytest.approx(0.1)
    assert cell.values == pytest.approx({"0": 96.0, "1": 96.1, "2": 96.2})
    text = leaderboard.page(board)
    assert "96.10 <span class=\"sd\">± 0.10</span>" in text
    # the tooltip: every seed, and the t interval of the mean: 96.1 ± 4.303 * 0.1 / sqrt(3) = ± 0.248
    assert ('title="%; mean ± sd of 3 seeds (0: 96.00, 1: 96.10, 2: 96.20); '
            '95% CI of the mean [95.85, 96.35] (Student t)"') in text


def test_extra_params_are_row_keys_and_narrower_benchmarks_broadcast(tmp_path):
    VALUES["precision"] = ["fp32", "bf16"]
    try:
        bench = dict(BENCHMARKS)
        bench["bench_pipelines.Training.track_accuracy"] = STEP + ("precision",)
        write_results(tmp_path, bench_params=bench)
        board, _ = build(tmp_path)
    finally:
        del VALUES["precision"]
    assert board.extra_params == ["precision"]
    assert len(board.rows) == 16  # 8 combinations x 2 precisions
    # Step has no precision parameter: it measured the default, fp32, and shows on fp32 rows only
    cpu = [r for r in board.rows if r.device == "cpu"]
    assert all(r.cells["train_step"].status == "ok" for r in cpu if r.params["precision"] == "fp32")
    assert all(r.cells["train_step"].status == "missing" for r in cpu if r.params["precision"] == "bf16")
    assert all(r.cells["parity"].status == "ok" for r in cpu)  # parity is the pipeline's: every row
    assert "<th data-type=\"text\" data-first=\"asc\"><button type=\"button\">precision</button></th>" in \
        leaderboard.page(board)


def test_generic_extra_params_broadcast_narrower_benchmarks(tmp_path):
    VALUES["batch"] = ["32", "64"]
    try:
        bench = dict(BENCHMARKS)
        bench["bench_pipelines.Training.track_accuracy"] = STEP + ("batch",)
        write_results(tmp_path, bench_params=bench)
        board, _ = build(tmp_path)
    finally:
        del VALUES["batch"]
    assert board.extra_params == ["batch"] and len(board.rows) == 16
    assert all(r.cells["train_step"].status == "ok" for r in board.rows if r.device == "cpu")


def build_backbones(root, bench: dict, value):
    """The board of one results file whose benchmarks have a ``backbone`` parameter (transformer, cnn)."""
    VALUES["backbone"] = ["transformer", "cnn"]
    try:
        write_results(root, bench_params=bench, value=value)
        return build(root)
    finally:
        del VALUES["backbone"]


def test_backbone_axis(tmp_path):
    """bench_backbones' rows beside the default suite's: the transformer's numbers (and parity) stay on
    transformer rows, each backbone gets its own parity and parameter count, a filter and a comparison."""
    axis = ("framework", "pipeline", "backbone", "device")
    bench = dict(BENCHMARKS)
    bench["bench_backbones.Training.track_accuracy"] = axis
    bench["bench_backbones.Parity.track_parity"] = ("pipeline", "backbone")
    bench["bench_backbones.Size.track_params"] = ("pipeline", "backbone")

    def value(name, p):
        if name == "bench_backbones.Parity.track_parity":  # bench_parity checks the transformer
            return math.nan if p["backbone"] == "transformer" else 0
        if name == "bench_backbones.Size.track_params":
            return 1.0
        return metric(name, p) + (1.5 if p.get("backbone") == "cnn" else 0.0)

    board, warned = build_backbones(tmp_path, bench, value)
    assert not warned
    assert board.backbones() == ["transformer", "cnn"] and board.extra_params == ["backbone"]
    assert len(board.rows) == 16  # 2 frameworks x 2 pipelines x 2 devices x 2 backbones
    cpu = [r for r in board.rows if r.device == "cpu"]
    for r in cpu:
        cnn = r.params["backbone"] == "cnn"
        token = r.pipeline.endswith("token")
        assert r.cells["train_step"].status == ("missing" if cnn else "ok")  # Step timed the transformer only
        assert r.cells["parity"].mean == (0 if cnn else 2 if token else 0) and r.cells["parity"].n == 1
        name = r.pipeline + ("+cnn" if cnn else "")
        assert r.param_count == params.count(spec.get_pipeline(name))
    text = leaderboard.page(board)
    assert 'data-filter="backbone" value="cnn"' in text and 'data-backbone="cnn"' in text
    section = text[text.index("Backbones: test accuracy"):]
    # best backbone of every line: cnn's accuracy is 1.5 higher, one seed each: no interval
    assert section.count("<td>cnn <small>1 seed: no interval</small></td>") == 8


@pytest.mark.parametrize("lead,shown", [
    ((1.5, 1.5, 1.5), "<td><b>cnn</b> <small>+1.5 [+1.5, +1.5] over transformer, 3 seeds</small></td>"),
    ((1.5, -0.5, -0.4), "<td>cnn or transformer <small>not separated: +0.2 [-2.6, +3.0] over transformer, "
                        "3 seeds</small></td>"),
])
def test_best_backbone_carries_its_lead_and_interval(tmp_path, lead, shown):
    """The best backbone of a line is named with its lead over the runner-up, paired by seed; a lead whose
    interval holds zero names both as not separated."""
    training = ("framework", "pipeline", "backbone", "device", "seed")
    bench = {"bench_backbones.Training.track_accuracy": training}

    def value(name, p):
        return metric(name, p) + (lead[int(p["seed"])] if p["backbone"] == "cnn" else 0.0)

    board, _ = build_backbones(tmp_path, bench, value)
    section = leaderboard.page(board)
    section = section[section.index("Backbones: test accuracy"):]
    assert section.count(shown) == 8  # 2 frameworks x 2 pipelines x 2 devices


def test_workers_axis(tmp_path):
    """bench_workers' rows: the 1-worker figures join the default rows, the 2-worker rows stay out of the
    board, the verdicts and the plot, and each dataset gets a scaling table with efficiency and
    communication; the gate's export carries the columns."""
    axis = ("framework", "pipeline", "device", "workers")
    bench = dict(BENCHMARKS)
    for m in ("track_throughput", "track_scaling_efficiency", "track_communication_share"):
        bench[f"bench_workers.Workers.{m}"] = axis

    def value(name, p):
        method, n = name.rsplit(".", 1)[1], int(p.get("workers", 1))
        if p.get("device") == "gpu" and n > 1:
            return math.nan  # one GPU: skipped
        if method == "track_throughput":
            return 1000.0 * (1.6 if n == 2 else 1.0)
        if method == "track_scaling_efficiency":
            return 100.0 if n == 1 else 80.0
        if method == "track_communication_share":
            return 0.0 if n == 1 else 12.5
        return metric(name, p)

    VALUES["workers"] = [1, 2]
    try:
        write_results(tmp_path, bench_params=bench, value=value)
        board, warned = build(tmp_path)
    finally:
        del VALUES["workers"]
    assert not warned
    one = [r for r in board.rows if r.params.get("workers") == "1"]
    two = [r for r in board.rows if r.params.get("workers") == "2" and r.device == "cpu"]
    assert len(one) == 8 and len(two) == 4
    assert all(r.cells["accuracy"].status == "ok" and r.cells["group_throughput"].mean == 1000.0 for r in one)
    assert all(r.cells["accuracy"].status == "missing" and r.cells["scaling_efficiency"].mean == 80.0 for r in two)
    text = leaderboard.page(board)
    start = text.index('<table class="board"')
    board_table = text[start:text.index("</table>", start)]
    assert board_table.count("<tr ") == 8  # one worker's rows only
    assert ">workers<" not in board_table.lower()
    start = text.index("Workers: data-parallel scaling")
    section = text[start:text.index("</table>", start)]
    assert section.count("<tr ") == 4  # cpu lines: 2 frameworks x 2 pipelines (the gpu skipped 2 workers)
    assert "80.00" in section and "12.50" in section
    rec = [r for r in export.records(board) if r["workers"] == "2" and r["device"] == "cpu"][0]
    assert rec["scaling_efficiency"] == 80.0 and rec["communication_share"] == 12.5


def test_head_to_head(results_dir):
    board, _ = build(results_dir)
    rows = board.rows
    tvf = model.token_vs_fragment(rows)
    assert len(tvf) == 8  # 2 machines x 2 devices x 2 frameworks
    d = next(d for d in tvf if d.a.machine == "gpubox" and d.a.device == "cpu" and d.a.params["framework"] == "pytorch")
    assert d.accuracy_diff == pytest.approx(-4.0) and d.speed_ratio == pytest.approx(3000 / 2500)
    fvp = model.tensorflow_vs_pytorch(rows)
    assert len(fvp) == 8
    assert all(d.speed_ratio == pytest.approx(0.8) for d in fvp if d.a.machine == "gpubox")
    assert all(d.speed_ratio is None for d in fvp if d.a.machine == "laptop" and d.a.device == "gpu")


# --- intervals and verdicts ------------------------------------------------------------

# token vs fragment per framework and seed: PyTorch's differ inside the seed noise (differences -1, 3, -2),
# TensorFlow's outside it (4.0, 3.9, 4.2: 95% interval [3.65, 4.41])
ACCURACY = {("pytorch", "token"): [90.0, 92.0, 88.0], ("pytorch", "fragment"): [91.0, 89.0, 90.0],
            ("tensorflow", "token"): [97.0, 97.2, 97.1], ("tensorflow", "fragment"): [93.0, 93.3, 92.9]}
STEADY = (-2, -1, 0, 1, 2, 0, 1, -1)  # per cent: a relative IQR of 2%
NOISY = (0.7, 0.9, 1.0, 1.1, 1.4, 1.0, 0.8, 1.3)  # a relative IQR of 28%


def seeded_accuracy(name, p):
    if name.endswith("track_accuracy") and p["device"] == "cpu":
        return ACCURACY[(p["framework"], p["pipeline"].split("/")[1])][int(p["seed"])]
    return metric(name, p)


def step_samples(name, p):
    """asv's samples of Step.time_train_step on the CPU: token's step 1.2x fragment's; TensorFlow
    token's samples noisy."""
    if not name.endswith("time_train_step") or p.get("device") != "cpu":
        return None
    token = p["pipeline"].endswith("token")
    base = 0.030 if token else 0.025
    if token and p["framework"] == "tensorflow":
        return [base * f for f in NOISY]
    return [base * (1 + 0.01 * i) for i in STEADY]


@pytest.fixture
def verdict_dir(tmp_path):
    write_results(tmp_path, "laptop", gpu=False, seeds=True, value=seeded_accuracy, samples=step_samples)
    return tmp_path


def duel(duels, **params):
    return next(d for d in duels if all(d.a.params.get(k) == v for k, v in params.items()))


def page_row(text, first, *words):
    """The text of the one table row of the page that starts with ``first`` and holds every one of ``words``."""
    rows = [r for r in Page(text).rows if r.startswith(first + " ") and all(w in r for w in words)]
    assert len(rows) == 1, (words, rows)
    return rows[0]


def verdict_text(text):
    """The verdict rows of the (first) dataset section, one string per row."""
    start = text.index('<table class="verdicts">')
    return Page(text[start:text.index("</table>", start)]).rows


def test_accuracy_verdicts_inside_and_outside_the_seed_noise(verdict_dir):
    board, warned = build(verdict_dir)
    assert not warned
    tvf = model.token_vs_fragment(board.rows)
    pt, tf = duel(tvf, framework="pytorch", device="cpu"), duel(tvf, framework="tensorflow", device="cpu")
    assert pt.accuracy.n == 3 and pt.accuracy.estimate == pytest.approx(0.0)
    assert pt.accuracy.lo == pytest.approx(-6.5724, abs=1e-4)  # sd sqrt(7), half 4.303 * 2.6458 / sqrt(3)
    assert pt.accuracy_verdict == "no clear difference"
    assert tf.accuracy.lo == pytest.approx(3.6539, abs=1e-4) and tf.accuracy.hi == pytest.approx(4.4128, abs=1e-4)
    assert tf.accuracy_verdict == "token better"
    fvp = model.tensorflow_vs_pytorch(board.rows)
    assert duel(fvp, pipeline="mnist/token", device="cpu").accuracy_verdict == "TensorFlow better"  # +7.1 [2.3, 11.9]
    text = leaderboard.page(board)
    assert page_row(text, "PyTorch", "laptop", "pts").startswith(
        "PyTorch cpu laptop +0.00 pts [−6.57, +6.57] 3 no clear difference")
    assert page_row(text, "TensorFlow", "laptop", "pts").startswith(
        "TensorFlow cpu laptop +4.03 pts [+3.65, +4.41] 3 token better")
    # short rows, not paragraphs (issue #24): one per machine, device, comparison and metric
    rows = verdict_text(text)
    assert ("tr", {"data-device": "cpu", "data-machine": "laptop"}) in Page(text).tags  # filtered with its rows
    assert rows[0] == ("laptop cpu 3 seeds Accuracy, token vs fragment token better in 1 of 2 (by +4.03 pts, "
                       "each 95% CI excludes 0) · not separated in 1 of 2")  # no claim where the interval holds 0
    assert rows[2] == ("laptop cpu 3 seeds Accuracy, TF vs PT TensorFlow better in 2 of 2 (by +3.07 to +7.10 pts, "
                       "each 95% CI excludes 0)")
    assert all(len(r) < 200 for r in rows)
    dl = [d for d in export.duels(board) if d["comparison"] == "token_vs_fragment"]
    assert [(d["framework_a"], d["accuracy_seeds"], d["accuracy_verdict"]) for d in dl] == [
        ("pytorch", 3, "no clear difference"), ("tensorflow", 3, "token better")]
    assert dl[1]["accuracy_lo"] == pytest.approx(3.6539, abs=1e-4)
    rows = list(csv.DictReader(io.StringIO(export.duels_to_csv(board))))
    assert [r["accuracy_verdict"] for r in rows if r["comparison"] == "token_vs_fragment"] == [
        "no clear difference", "token better"]


def test_exports_carry_every_seed(verdict_dir):
    board, _ = build(verdict_dir)
    recs = json.loads(export.to_json(board))
    tf_token = next(r for r in recs if r["pipeline"] == "mnist/token" and r["framework"] == "tensorflow"
                    and r["device"] == "cpu")
    assert tf_token["accuracy_values"] == {"0": 97.0, "1": 97.2, "2": 97.1} and tf_token["accuracy_n"] == 3
    assert tf_token["train_step_spread"] == pytest.approx(0.275, abs=1e-3)
    rows = list(csv.DictReader(io.StringIO(export.to_csv(board))))
    row = next(r for r in rows if r["pipeline"] == "mnist/token" and r["framework"] == "tensorflow"
               and r["device"] == "cpu")
    assert row["accuracy_values"] == "0:97.0;1:97.2;2:97.1"
    skipped = next(r for r in rows if r["device"] == "gpu")
    assert skipped["accuracy_values"] == "" and skipped["accuracy_status"] == "skipped"


def test_one_seed_gives_no_interval(tmp_path, monkeypatch):
    monkeypatch.setitem(VALUES, "seed", ["0"])
    write_results(tmp_path, seeds=True, value=seeded_accuracy)
    board, _ = build(tmp_path)
    tvf = model.token_vs_fragment(board.rows)
    tf = duel(tvf, framework="tensorflow", device="cpu")
    assert tf.accuracy.n == 1 and not tf.accuracy.has_interval and tf.accuracy_verdict == "1 seed: no interval"
    assert tf.speed_verdict == "throughput only: no interval"  # no step samples: no interval either
    text = leaderboard.page(board)
    assert '97.00 <span class="sd">1 seed</span>' in text
    assert page_row(text, "TensorFlow", "cpu", "pts").startswith(
        "TensorFlow cpu laptop +4.00 pts 1 1 seed: no interval")
    sentences = " ".join(verdict_text(text))
    assert "laptop cpu 1 seed Accuracy, token vs fragment no interval (1 seed) in 2 of 2" in sentences
    assert " better" not in sentences and "faster" not in sentences
    assert {d["accuracy_verdict"] for d in export.duels(board)} == {"1 seed: no interval"}


def test_results_without_a_seed_parameter_are_one_seed(results_dir):
    board, _ = build(results_dir)
    assert {d.accuracy_verdict for d in model.token_vs_fragment(board.rows) if d.accuracy} == {stats.ONE_SEED}
    assert '96.00 <span class="sd">1 seed</span>' in leaderboard.page(board)


def test_results_from_before_the_seed_parameter_still_count(tmp_path):
    """benchmarks.json names the seed once the suite has it; a machine's older results lack it."""
    write_results(tmp_path, "old", gpu=False)
    write_results(tmp_path, "new", gpu=False, seeds=True)  # rewrites benchmarks.json with the seed
    board, warned = build(tmp_path)
    assert not [w for w in warned if "parameters" in w]
    cpu = {"pipeline": "mnist/fragment", "framework": "pytorch", "device": "cpu"}
    old = next(r for r in board.rows if r.machine == "old" and r.params == cpu)
    assert old.cells["accuracy"].values == {"default": 96.0} and old.cells["throughput"].status == "ok"
    new = next(r for r in board.rows if r.machine == "new" and r.params == cpu)
    assert new.cells["accuracy"].values == pytest.approx({"0": 96.0, "1": 96.1, "2": 96.2})
    # asv's pages no longer draw the old runs of a benchmark whose parameters changed: no dead link
    assert old.cells["accuracy"].link == "" and new.cells["accuracy"].link.startswith("index.html#")
    assert old.cells["train_step"].link.startswith("index.html#")  # Step never had a seed: still linked


def test_step_time_verdicts_from_asv_samples(verdict_dir):
    board, _ = build(verdict_dir)
    tvf = model.token_vs_fragment(board.rows)
    pt, tf = duel(tvf, framework="pytorch", device="cpu"), duel(tvf, framework="tensorflow", device="cpu")
    assert len(pt.a.cells["train_step"].samples) == 8
    assert pt.step.estimate == pytest.approx(1.2) and pt.step.lo > 1 and pt.speed_verdict == "fragment faster"
    assert tf.step.noisy and tf.speed_verdict == "noisy: re-measure"
    fvp = model.tensorflow_vs_pytorch(board.rows)
    assert duel(fvp, pipeline="mnist/fragment", device="cpu").speed_verdict == "no clear difference"
    text = leaderboard.page(board)
    assert page_row(text, "PyTorch", "pts").endswith("1.20× [1.18, 1.22] fragment faster")
    assert page_row(text, "TensorFlow", "pts").endswith("noisy noisy: re-measure")
    sentences = verdict_text(text)
    assert sentences[1] == ("laptop cpu 3 seeds Step time, token vs fragment fragment faster in 1 of 2 (token's "
                            "step 1.20× fragment's, each 95% CI excludes 1) · noisy in 1 of 2 (re-measure)")


def test_noisy_timings_are_flagged(verdict_dir):
    board, _ = build(verdict_dir)
    row = next(r for r in board.rows if r.params == {"pipeline": "mnist/token", "framework": "tensorflow",
                                                      "device": "cpu"})
    assert row.cells["train_step"].noisy and row.cells["train_step"].spread == pytest.approx(0.275, abs=1e-3)
    text = leaderboard.page(board)
    noisy = [a for t, a in Page(text).tags if t == "td" and "noisy" in a.get("class", "").split()
             and "st-ok" in a.get("class", "")]
    assert len(noisy) == 1
    assert noisy[0]["title"] == "s; spread 28% > 10%: re-measure; not used for verdicts"
    steady = next(r for r in board.rows if r.params == {"pipeline": "mnist/token", "framework": "pytorch",
                                                         "device": "cpu"})
    assert not steady.cells["train_step"].noisy
    assert 'title="s; 8 asv samples, spread 2% (interquartile range / median)"' in text


def test_implausible_samples_are_dropped_with_a_warning(tmp_path):
    write_results(tmp_path, gpu=False, samples=lambda n, p: [0.02, -1.0, 0.03] if n.endswith("time_train_step")
                  else None)
    board, warned = build(tmp_path)
    assert any("samples are not a list of plausible s values" in w for w in warned)
    assert all(r.cells["train_step"].samples == () for r in board.rows)
    assert all(r.cells["train_step"].status == "ok" for r in board.rows if r.device == "cpu")


def test_methods_are_named_once(verdict_dir):
    board, _ = build(verdict_dir)
    text = leaderboard.page(board)
    assert text.count(stats.METHOD_PAIRED) == 1
    assert text.count(leaderboard.render._e(stats.METHOD_RATIO)) == 1


def test_unmeasured_rows_are_hidden_behind_one_control(results_dir):
    board, _ = build(results_dir)
    text = leaderboard.page(board)
    page = Page(text)
    toggles = [a for t, a in page.tags if t == "input" and a.get("id") == "show-unmeasured"]
    assert len(toggles) == 1 and "checked" not in toggles[0]  # hidden by default
    assert "show 4 unmeasured combinations" in text  # laptop has no GPU: its 4 GPU rows measured nothing
    rows = [a for t, a in page.tags if t == "tr" and "data-device" in a and "data-v" not in a]
    board_rows = board.datasets()["mnist"]
    assert [not r.measured for r in board_rows] == [False] * 12 + [True] * 4  # measured rows first
    hidden = [r for r in board_rows if not r.measured]
    assert {(r.machine, r.device) for r in hidden} == {("laptop", "gpu")}
    assert sum(a.get("class") == "unmeasured" for a in rows) == 4
    assert 'getElementById("show-unmeasured")' in leaderboard.render.JS  # the filter script honours it


def test_no_unmeasured_rows_no_control(tmp_path):
    write_results(tmp_path, "gpubox")
    board, _ = build(tmp_path)
    assert all(r.measured for r in board.rows)
    assert 'id="show-unmeasured"' not in leaderboard.page(board)


def test_page_is_self_contained_with_a_strict_csp(results_dir):
    board, _ = build(results_dir)
    text = leaderboard.page(board)
    page = Page(text)
    csp = next(a["content"] for t, a in page.tags if t == "meta" and a.get("http-equiv") == "Content-Security-Policy")
    assert "default-src 'none'" in csp and "'unsafe-inline'" not in csp and "script-src 'sha256-" in csp
    for tag, attrs in page.tags:
        assert not (tag in ("script", "img", "link", "iframe") and attrs.get("src")), (tag, attrs)
        assert "style" not in attrs, tag  # inline style attributes would need 'unsafe-inline'
    assert "http://" not in text.replace('xmlns="http://www.w3.org/2000/svg"', "")
    assert "https://" not in text
    assert sum(1 for t, a in page.tags if t == "svg") == 1
    assert "Token vs fragment" in text and "TensorFlow vs PyTorch" in text
    assert "Test CPU @ 3GHz (8 cores)" in text and "16 GiB" in text and "torch 2.14.1" in text
    board_rows = [r for r in page.rows if r.split(" ")[0].isdigit()]
    assert len(board_rows) == 16


def test_missing_skipped_failed_are_never_zero(tmp_path):
    def value(name, p):
        if p.get("device") == "gpu":
            return math.nan
        if name.endswith("time_inference") and p["framework"] == "tensorflow":
            return None
        return metric(name, p)

    bench = {n: p for n, p in BENCHMARKS.items() if not n.endswith("track_peak_memory")}
    write_results(tmp_path, value=value, bench_params=bench)
    board, warned = build(tmp_path)
    row = next(r for r in board.rows if r.params["framework"] == "tensorflow" and r.device == "cpu")
    assert row.cells["latency"].status == "failed" and row.cells["peak_memory"].status == "missing"
    assert any("failed" in w for w in warned)
    cells = {td for td in leaderboard.page(board).split("<td") if "st-" in td}
    for status in ("failed", "missing", "skipped"):
        assert any(f"st-{status}" in td and f">{status}<" in td for td in cells), status
    assert not any('data-v="0' in td for td in cells if "st-ok" not in td)


# --- cost scaling (bench_perf.Scaling) --------------------------------------------------

@pytest.fixture
def scaling_dir(tmp_path):
    root = tmp_path / "results"
    write_results(root, "laptop", gpu=False, scaling=True)
    write_results(root, "gpubox", scaling=True)
    return root


def scaling_point(board, machine, framework, representation, window):
    return next(p for p in board.scaling
                if (p.machine, p.framework, p.representation, p.window) == (machine, framework, representation, window))


def scaling_section(text):
    start = text.index('<section data-dataset="scaling">')
    return text[start:text.index("</section>", start) + len("</section>")]


def test_scaling_points_are_collected(scaling_dir):
    board, warned = build(scaling_dir)
    assert warned == []  # in particular no "has no leaderboard column" for peakmem_train_step / track_seq_len
    assert len(board.scaling) == 2 * 2 * 2 * 4  # machines x frameworks x representations x windows
    p = scaling_point(board, "gpubox", "pytorch", "token", 2)
    assert (p.units, p.device) == (196, "cpu")
    assert p.step_seconds == pytest.approx(0.002 + 2e-7 * 196**2 * 1.5) and p.peak_memory == 696e6
    q = scaling_point(board, "laptop", "tensorflow", "fragment", 14)
    assert q.units == 4 and q.step_seconds == pytest.approx(0.002 + 2e-7 * 16 * 1.2) and q.peak_memory == 504e6
    link = p.cells["step_seconds"].link
    assert link.startswith("index.html#bench_perf.Scaling.time_train_step?machine=gpubox&") and "p-window=2" in link
    # ordered by framework, representation, machine, window
    assert [(q.framework, q.representation, q.machine, q.window) for q in board.scaling[:5]] == [
        ("pytorch", "fragment", "gpubox", 2), ("pytorch", "fragment", "gpubox", 4),
        ("pytorch", "fragment", "gpubox", 7), ("pytorch", "fragment", "gpubox", 14),
        ("pytorch", "fragment", "laptop", 2)]
    assert [q.units for q in board.scaling[:4]] == [196, 49, 16, 4]
    # the rows are what they are without Scaling: time_train_step of Scaling feeds no row
    assert len(board.rows) == 16 and board.extra_params == [] and board.devices() == ["cpu", "gpu"]
    steps = sorted({r.value("train_step") for r in board.rows} - {None})
    assert steps == pytest.approx([0.0025, 0.025])
    assert len(export.records(board)) == 16


def test_scaling_section_in_page(scaling_dir):
    board, _ = build(scaling_dir)
    text = leaderboard.page(board)
    page = Page(text)
    # after the dataset sections, before Machines
    # the answer first, then the datasets, the scaling section, and Machines
    assert [a.get("data-dataset") for t, a in page.tags if t == "section"] == [None, "mnist", "scaling", None]
    assert sum(1 for t, _ in page.tags if t == "svg") == 2
    for tag, attrs in page.tags:  # still nothing the strict CSP would block
        assert "style" not in attrs and not any(k.startswith("on") for k in attrs), (tag, attrs)
    assert ("input", {"type": "checkbox", "data-filter": "device", "value": "cpu", "checked": None}) in page.tags
    section = scaling_section(text)
    assert '<h2>Cost scaling <small class="note count"></small></h2>' in section  # the filters count its rows
    assert ("Time per training step against sequence length (MNIST windows of 14, 7, 4, 2 px). Attention grows "
            "with the square of the length, the fragment projection with the window size.") in section
    sec = Page(section)
    assert sec.rows[0] == "Framework Representation Machine Window (px) Units Train step Peak RSS"
    assert len(sec.rows) == 1 + 32
    assert "PyTorch token gpubox 2 196 13.5 ms 664 MiB" in sec.rows
    assert "TensorFlow fragment laptop 14 4 2 ms 481 MiB" in sec.rows
    assert ("table", {"class": "board scaling", "id": "scaling-board"}) in sec.tags
    rows = [a for t, a in sec.tags if t == "tr" and "data-machine" in a]
    assert len(rows) == 32 and {a["data-device"] for a in rows} == {"cpu"}
    assert {a["data-machine"] for a in rows} == {"laptop", "gpubox"}
    # the plot: one line per machine x framework x representation; TensorFlow's dashed (class tf)
    groups = [a for t, a in sec.tags if t == "g"]
    assert sorted(a["class"] for a in groups) == sorted(
        ["series fragment", "series fragment tf", "series token", "series token tf"] * 2)
    assert {(a["data-device"], a["data-machine"]) for a in groups} == {("cpu", "laptop"), ("cpu", "gpubox")}
    lines = [[tuple(map(float, xy.split(","))) for xy in a["points"].split()] for t, a in sec.tags if t == "polyline"]
    assert len(lines) == 8 and all(len(line) == 4 for line in lines)
    for line in lines:  # left to right in sequence length, and up (svg y falls) as the step time grows
        assert [x for x, _ in line] == sorted(x for x, _ in line)
        assert [y for _, y in line] == sorted((y for _, y in line), reverse=True)
    assert len({line[-1][0] for line in lines}) == 1  # every line ends at 196 units
    assert sum(t == "circle" for t, _ in sec.tags) == 16 and sum(t == "rect" for t, _ in sec.tags) == 16
    labels = ["token · TF · gpubox", "token · PT · laptop", "fragment · TF · laptop", "fragment · PT · gpubox"]
    assert all(f">{label}</text></g>" in section for label in labels)  # each line labelled at its end
    ticks = [f'text-anchor="middle">{u}</text>' for u in (4, 16, 49, 196)]
    assert all(t in section for t in ticks) and '>10 ms</text>' in section


def test_scaling_from_the_newest_commit_that_measured_it(tmp_path):
    slow = lambda n, p: 0.5 if n.endswith("Scaling.time_train_step") else metric(n, p)  # noqa: E731
    write_results(tmp_path, "gpubox")  # its latest commit has no Scaling results: its older ones show
    write_results(tmp_path, "gpubox", commit=COMMIT_OLD, date=DATE_MS - DAY_MS, scaling=True)
    write_results(tmp_path, "laptop", commit=COMMIT_OLD, date=DATE_MS - DAY_MS, scaling=True, value=slow)
    write_results(tmp_path, "laptop", scaling=True)  # last: benchmarks.json is the last call's
    board, _ = build(tmp_path)
    assert len(board.scaling) == 32 and {p.machine for p in board.scaling} == {"laptop", "gpubox"}
    laptop = [p for p in board.scaling if p.machine == "laptop"]  # its newest commit's, not the slow ones
    assert max(p.step_seconds for p in laptop) == pytest.approx(0.002 + 2e-7 * 196**2 * 1.5 * 1.2)
    assert board.machines["gpubox"].earlier == [(COMMIT_OLD, DATE_MS - DAY_MS)]


def test_a_partial_run_adds_to_the_older_commits_results(tmp_path):
    """`make bench` then `make bench-backbones` (asv -b) at a later commit: the board shows both. A
    cell comes whole from the newest commit that ran it (its seeds never mix commits); what that
    commit did not select (NaN) keeps the older result; what it ran and failed shows as failed."""
    def newer(name, p):
        if p["pipeline"] == "mnist/token":
            return None if p["framework"] == "tensorflow" and p["device"] == "cpu" else math.nan
        return 50.0 if p["seed"] == "0" and p["device"] == "cpu" else math.nan
    write_results(tmp_path, "laptop", gpu=False, value=newer,
                  bench_params={"bench_pipelines.Training.track_accuracy": STEP + ("seed",)})
    write_results(tmp_path, "laptop", commit=COMMIT_OLD, date=DATE_MS - DAY_MS, gpu=False, seeds=True)
    board, warned = build(tmp_path)
    assert not [w for w in warned if "laptop" in w and "ignored" in w]
    rows = {(r.pipeline, r.params["framework"]): r for r in board.rows if r.device == "cpu"}
    fragment = rows[("mnist/fragment", "pytorch")]
    assert fragment.cells["accuracy"].n == 1 and fragment.value("accuracy") == 50.0  # not 50 with 96.1, 96.2
    assert fragment.value("throughput") == 2500.0  # the older commit's, which the newer did not run
    assert fragment.commits == (COMMIT_OLD, COMMIT)
    token = rows[("mnist/token", "pytorch")]
    assert token.value("accuracy") == pytest.approx(92.1) and token.cells["accuracy"].n == 3
    assert token.commits == (COMMIT_OLD,)
    assert rows[("mnist/token", "tensorflow")].cells["accuracy"].status == "failed"
    machine = board.machines["laptop"]
    assert machine.commit == COMMIT and machine.earlier == [(COMMIT_OLD, DATE_MS - DAY_MS)]
    text = leaderboard.page(board)
    assert "and, for what it did not run" in text and f'title="{COMMIT_OLD}">{COMMIT_OLD[:8]}' in text
    exported = {(r["pipeline"], r["framework"], r["device"]): r for r in export.records(board)}
    assert exported[("mnist/fragment", "pytorch", "cpu")]["commit"] == f"{COMMIT_OLD} {COMMIT}"


def test_an_older_commit_on_other_data_stays_off_the_board(tmp_path):
    newer = write_results(tmp_path, "laptop", gpu=False,
                          bench_params={"bench_pipelines.Training.track_accuracy": STEP})
    older = write_results(tmp_path, "laptop", commit=COMMIT_OLD, date=DATE_MS - DAY_MS, gpu=False)
    for path, fingerprint in ((newer, "1" * 64), (older, "2" * 64)):
        doc = json.loads(path.read_text())
        doc["params"]["data_mnist"] = fingerprint
        path.write_text(json.dumps(doc))
    board, warned = build(tmp_path)
    assert [w for w in warned if f"{COMMIT_OLD[:8]}" in w and "measured on other data" in w and "mnist" in w]
    assert all(r.value("throughput") is None for r in board.rows)  # only the older commit measured it
    assert board.machines["laptop"].earlier == [] and board.data["mnist"]["laptop"] == "1" * 64


@pytest.mark.parametrize("method,bad,unit", [
    ("time_train_step", -0.01, "s"), ("time_train_step", 0.0, "s"), ("time_train_step", math.inf, "s"),
    ("time_train_step", "0.01", "s"), ("peakmem_train_step", 1e20, "bytes"), ("peakmem_train_step", -1.0, "bytes"),
    ("track_seq_len", 2.5, "units"), ("track_seq_len", -196, "units"), ("track_seq_len", True, "units"),
])
def test_implausible_scaling_values_are_dropped(tmp_path, method, bad, unit):
    def value(name, p):
        return bad if name.endswith(method) and p.get("window") == 2 and p.get("representation") == "token" \
            else metric(name, p)

    write_results(tmp_path, scaling=True, value=value)
    board, warned = build(tmp_path)
    assert any(f"Scaling.{method}" in w and f"not a plausible {unit} value" in w and str(tmp_path) in w
               for w in warned)
    assert len(board.scaling) == 16
    attr, key = {"time_train_step": ("step_seconds", "step_seconds"), "peakmem_train_step": ("peak_memory",
                 "peak_memory"), "track_seq_len": ("units", "units")}[method]
    dropped = [p for p in board.scaling if p.window == 2 and p.representation == "token"]
    assert len(dropped) == 2 and all(getattr(p, attr) is None and p.cells[key].status == "missing" for p in dropped)
    kept = scaling_point(board, "laptop", "pytorch", "fragment", 2)
    assert (kept.units, kept.step_seconds, kept.peak_memory) == (196, pytest.approx(0.0096832), 696e6)
    section = scaling_section(leaderboard.page(board))
    assert section.count('st-missing" data-v="">missing</td>') == 2
    plotted = 2 if method == "peakmem_train_step" else 0  # the memory is not plotted
    assert sum(len(a["points"].split()) == 4 for t, a in Page(section).tags if t == "polyline") == 2 + plotted


def test_skipped_and_failed_scaling_values(tmp_path):
    def value(name, p):
        if name.endswith("Scaling.time_train_step") and p.get("representation") == "token":
            return math.nan if p["framework"] == "tensorflow" else (None if p["window"] == 14 else metric(name, p))
        return metric(name, p)

    write_results(tmp_path, scaling=True, value=value)
    board, warned = build(tmp_path)
    tf = [p for p in board.scaling if p.framework == "tensorflow" and p.representation == "token"]
    assert len(tf) == 4 and all(p.step_seconds is None and p.cells["step_seconds"].status == "skipped"
                                and p.units is not None for p in tf)
    failed = scaling_point(board, "laptop", "pytorch", "token", 14)
    assert failed.step_seconds is None and failed.cells["step_seconds"].status == "failed" and failed.units == 4
    assert any("1 benchmark combination(s) failed" in w for w in warned)
    assert not any("not a plausible" in w for w in warned)
    section = scaling_section(leaderboard.page(board))
    assert section.count(">skipped</a></td>") == 4 and section.count(">failed</a></td>") == 1
    groups = [a["class"] for t, a in Page(section).tags if t == "g"]
    assert sorted(groups) == ["series fragment", "series fragment tf", "series token"]  # TF token: nothing to plot
    assert sorted(len(a["points"].split()) for t, a in Page(section).tags if t == "polyline") == [3, 4, 4]


def test_malformed_scaling_windows_are_skipped(tmp_path):
    VALUES["window"] += ["abc", 0]
    try:
        write_results(tmp_path, scaling=True, value=lambda n, p: metric(n, p) if isinstance(p.get("window", 1), int)
                      and p.get("window", 1) > 0 else 1.0)
    finally:
        del VALUES["window"][-2:]
    board, warned = build(tmp_path)
    assert {p.window for p in board.scaling} == {2, 4, 7, 14} and len(board.scaling) == 16
    assert any("window 'abc' is not a whole number of pixels" in w and str(tmp_path) in w for w in warned)
    assert any("window '0' is not a whole number of pixels" in w for w in warned)


def test_no_scaling_results_no_scaling_section(results_dir):
    board, warned = build(results_dir)
    assert board.scaling == [] and model.Board(board.rows, board.machines, board.extra_params).scaling == []
    text = leaderboard.page(board)
    assert 'data-dataset="scaling"' not in text and "Cost scaling" not in text and "<polyline" not in text
    assert [a.get("data-dataset") for t, a in Page(text).tags if t == "section"] == [None, "mnist", None]


def test_scaling_results_only(tmp_path):
    write_results(tmp_path, "laptop", bench_params=SCALING)
    board, warned = build(tmp_path)
    assert warned == [] and board.rows == [] and len(board.scaling) == 16
    assert list(board.machines) == ["laptop"] and board.devices() == ["cpu"]
    text = leaderboard.page(board)
    assert [a.get("data-dataset") for t, a in Page(text).tags if t == "section"] == ["scaling", None]
    assert "Test CPU @ 3GHz (8 cores)" in text and 'data-filter="device" value="cpu"' in text
    assert export.to_csv(board) == "" and json.loads(export.to_json(board)) == []


# --- untrusted input -------------------------------------------------------------------

def test_no_html_injection_from_results(tmp_path):
    evil = '<script>alert(1)</script>"onmouseover=alert(1) x=\'&amp;'
    write_results(tmp_path, machine=evil, extra={"python": "<img src=x onerror=alert(1)>"}, scaling=True)
    bad_fw = "<b onclick=alert(1)>pt</b>"
    VALUES["framework"].append(bad_fw)
    try:
        write_results(tmp_path / "r2", machine="m2", scaling=True)
    finally:
        VALUES["framework"].remove(bad_fw)
    for root in (tmp_path, tmp_path / "r2"):
        board, _ = build(root)
        text = leaderboard.page(board)
        page = Page(text)
        scripts = [a for t, a in page.tags if t == "script"]
        assert len(scripts) == 1  # the page's own
        for tag, attrs in page.tags:
            assert tag not in ("img", "b"), tag
            assert not any(k.startswith("on") for k in attrs), (tag, attrs)
        assert "<script>alert" not in text and "<img" not in text and "<b " not in text
    text = leaderboard.page(build(tmp_path)[0])
    assert "&lt;script&gt;alert(1)&lt;/script&gt;&quot;onmouseover=alert(1) x=&#x27;&amp;amp;" in text
    assert Page(text).tags.count(("tr", {"data-machine": evil})) == 1  # the machines table, decoded intact


def test_malformed_files_are_skipped_with_a_warning(results_dir):
    bad = results_dir / "bad"
    bad.mkdir()
    (bad / "truncated.json").write_text('{"version": 2, "results": {')
    (bad / "old.json").write_text(json.dumps({"version": 1, "results": {}}))
    (bad / "list.json").write_text("[1, 2]")
    (bad / "null.json").write_text("null")
    (bad / "machine.json").write_text("{oops")
    write_results(results_dir, "weird", extra={"results": {
        "bench_pipelines.Training.track_accuracy": "not a list",
        "bench_pipelines.Step.time_inference": [[1.0], [[1, [2]]]],
        "bench_pipelines.Step.time_train_step": [[1.0, 2.0], [["'pytorch'"]]],
        "bench_pipelines.Step.time_preprocess": [[1.0], [["'pytorch'"]]],
        "bench_pipelines.Training.track_train_throughput": [[1.0], [["'pytorch'"], ["'mnist/token'"], ["'cpu'"]]],
    }})
    board, warned = build(results_dir)
    assert len(board.rows) == 17  # the two good machines, and weird's one well-formed entry
    for name in ("truncated.json", "old.json", "list.json", "null.json", "bad/machine.json"):
        assert any(name in w for w in warned), name
    assert any("weird" in w and "malformed entry" in w for w in warned)
    assert any("weird" in w and "malformed parameter lists" in w for w in warned)
    assert any("weird" in w and "2 values for 1 combinations" in w for w in warned)
    assert any("weird" in w and "has 1 parameters where benchmarks.json names 3" in w for w in warned)


@pytest.mark.parametrize("bad", [-1.0, 101.0, math.inf, -math.inf, "97", True, [1], {"a": 1}])
def test_implausible_accuracy_is_rejected(tmp_path, bad):
    write_results(tmp_path, value=lambda n, p: bad if n.endswith("accuracy") and p["framework"] == "pytorch"
                  else metric(n, p))
    board, warned = build(tmp_path)
    assert all(r.cells["accuracy"].status == "missing" for r in board.rows if r.params["framework"] == "pytorch")
    assert any("not a plausible % value" in w and str(tmp_path) in w for w in warned)


@pytest.mark.parametrize("method,bad", [("track_train_throughput", 1e13), ("time_inference", -0.1),
                                        ("track_peak_memory", -5.0), ("track_parity", 0.5),
                                        ("track_time_to_target", 1e300)])
def test_other_implausible_values_are_rejected(tmp_path, method, bad):
    write_results(tmp_path, value=lambda n, p: bad if n.endswith(method) else metric(n, p))
    board, warned = build(tmp_path)
    key = model.BY_METHOD[method].key
    assert all(r.cells[key].status == "missing" for r in board.rows)
    assert any("not a plausible" in w for w in warned)


def test_unknown_benchmarks_and_unknown_pipelines(tmp_path):
    bench = dict(BENCHMARKS)
    bench["bench_pipelines.Training.track_mfu"] = STEP
    VALUES["pipeline"].append("nosuch/token")
    try:
        write_results(tmp_path, bench_params=bench)
    finally:
        VALUES["pipeline"].remove("nosuch/token")
    board, warned = build(tmp_path)
    assert any("track_mfu" in w and "no leaderboard column" in w for w in warned)
    assert {r.param_count for r in board.rows if r.pipeline == "nosuch/token"} == {None}
    assert "nosuch/token" in leaderboard.page(board)


def test_missing_benchmarks_json(tmp_path):
    write_results(tmp_path)
    (tmp_path / "benchmarks.json").unlink()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(model.LeaderboardError, match="no usable"):
            leaderboard.build(tmp_path)


def test_no_results_is_an_error(tmp_path):
    with pytest.raises(model.LeaderboardError, match="no such results folder"):
        leaderboard.build(tmp_path / "nope")
    with pytest.raises(model.LeaderboardError, match="no results files"):
        leaderboard.build(tmp_path)


def test_results_reader_keeps_its_api(results_dir):
    df = results_frame(results_dir)
    assert list(df.columns) == results.COLUMNS and len(df) == 2 * (9 * 8 + 2)
    assert set(df.status) == {"ok", "skipped"}
    rows = results.read_file(next((results_dir / "gpubox").glob("b*.json")))
    assert rows[0]["params"] == ("pytorch", "mnist/fragment", "cpu")
    assert rows[0]["raw_params"] == ("'pytorch'", "'mnist/fragment'", "'cpu'")


# --- exports and CLI -------------------------------------------------------------------

def test_csv_and_json_exports(results_dir):
    board, _ = build(results_dir)
    recs = json.loads(export.to_json(board))
    assert len(recs) == 16 and recs[0]["rank"] == 1 and recs[0]["accuracy"] == 96.0
    skipped = [r for r in recs if r["machine"] == "laptop" and r["device"] == "gpu"]
    assert all(r["accuracy"] is None and r["accuracy_status"] == "skipped" for r in skipped)
    assert recs[0]["accuracy_values"] == {"default": 96.0}  # no seed parameter: one run, the spec's seed
    rows = list(csv.DictReader(io.StringIO(export.to_csv(board))))
    assert len(rows) == 16 and rows[0]["accuracy"] == "96.0" and rows[0]["dataset"] == "mnist"
    assert rows[0]["accuracy_values"] == "default:96.0"
    assert {r["parity"] for r in rows} == {"pass", "fail (2 checks)", "not checked"}
    pd = pytest.importorskip("pandas")
    df = pd.read_csv(io.StringIO(export.to_csv(board)))
    assert df.accuracy.isna().sum() == 4 and df.accuracy.max() == 96.0


def test_publish_cli_writes_page_and_exports(results_dir, tmp_path, capsys):
    parser = argparse_with_subcommands()
    html = tmp_path / "html"
    args = parser.parse_args(["publish", "--results", str(results_dir), "--html", str(html), "--no-asv"])
    assert args.func(args) == 0
    assert (html / "leaderboard.html").is_file() and "leaderboard:" in capsys.readouterr().out
    out = tmp_path / "board.csv"
    args = parser.parse_args(["publish", "--results", str(results_dir), "--html", str(html), "--no-asv",
                              "--format", "csv", "--output", str(out)])
    assert args.func(args) == 0 and len(out.read_text().splitlines()) == 17
    args = parser.parse_args(["publish", "--results", str(results_dir), "--html", str(html), "--no-asv",
                              "--format", "json"])
    assert args.func(args) == 0 and len(json.loads(capsys.readouterr().out)) == 16
    args = parser.parse_args(["publish", "--results", str(results_dir), "--html", str(html), "--no-asv",
                              "--format", "duels-json"])
    assert args.func(args) == 0
    duels = json.loads(capsys.readouterr().out)
    assert len(duels) == 12  # 8 token vs fragment + 8 TF vs PT, less the 4 pairs of laptop's GPU (unmeasured)
    assert {d["accuracy_verdict"] for d in duels} == {"1 seed: no interval"}


def test_publish_cli_errors(tmp_path, capsys):
    from tokfrag.cli import main  # user errors become exit code 2 there, for every command

    args = ["publish", "--results", str(tmp_path / "none"), "--html", str(tmp_path), "--no-asv"]
    assert main(args) == 2
    assert "no such results folder" in capsys.readouterr().err
    args = ["publish", "--results", str(tmp_path), "--html", str(tmp_path), "--no-asv", "--output", "x.csv"]
    assert main(args) == 2
    args = ["serve", "--html", str(tmp_path)]
    assert main(args) == 2 and "run `tokfrag publish` first" in capsys.readouterr().err


def test_warnings_are_printed_without_terminal_escapes(results_dir, tmp_path, capsys):
    write_results(results_dir, "evil\x1b[2J")
    (results_dir / "evil\x1b[2J" / "junk.json").write_text("{")
    args = argparse_with_subcommands().parse_args(
        ["publish", "--results", str(results_dir), "--html", str(tmp_path), "--no-asv"])
    assert args.func(args) == 0
    err = capsys.readouterr().err
    assert "\x1b" not in err and "evil\\x1b[2J" in err and "junk.json" in err


def test_serve_binds_to_localhost_only(results_dir, tmp_path):
    html = tmp_path / "html"
    write_page(results_dir, html)
    code = ("import argparse, sys; from tokfrag.leaderboard import cli; p = argparse.ArgumentParser(); "
            "cli.add_parsers(p.add_subparsers()); a = p.parse_args(['serve', '--port', '0', '--html', sys.argv[1]]); "
            "sys.exit(a.func(a))")
    proc = subprocess.Popen([sys.executable, "-u", "-c", code, str(html)], cwd=REPO, stdout=subprocess.PIPE,
                            text=True)
    try:
        first, second = proc.stdout.readline(), proc.stdout.readline()
        assert "bound to 127.0.0.1 only" in first
        url = second.split()[1]
        assert url.startswith("http://127.0.0.1:")
        from urllib.request import urlopen

        with urlopen(url, timeout=10) as r:
            assert b"tokfrag leaderboard" in r.read()
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def write_page(results_dir, html):
    board, _ = build(results_dir)
    return leaderboard.write(board, html)


def argparse_with_subcommands():
    import argparse

    p = argparse.ArgumentParser(prog="tokfrag")
    cli.add_parsers(p.add_subparsers(dest="command", required=True))
    return p


def test_help_texts():
    p = argparse_with_subcommands()
    for sub in ("publish", "serve"):
        with pytest.raises(SystemExit):
            p.parse_args([sub, "--help"])


# --- survives `asv publish` ------------------------------------------------------------

def test_page_survives_asv_publish(tmp_path):
    """With the plugin in asv.conf.json, a plain `asv publish` (which wipes html/) rewrites the page."""
    project = tmp_path / "project"
    project.mkdir()
    git = ["git", "-c", "user.email=t@t.invalid", "-c", "user.name=t"]
    subprocess.run(git + ["init", "-q", "-b", "main"], cwd=project, check=True)
    (project / "README").write_text("x")
    subprocess.run(git + ["add", "README"], cwd=project, check=True)
    subprocess.run(git + ["commit", "-q", "-m", "x"], cwd=project, check=True)
    sha = subprocess.run(["git", "rev-parse", "HEAD"], cwd=project, capture_output=True, text=True).stdout.strip()
    write_results(project / "results", "laptop", commit=sha, gpu=False)
    (project / "asv.conf.json").write_text(json.dumps({
        "version": 1, "project": "p", "repo": ".", "branches": ["main"], "results_dir": "results",
        "html_dir": "html", "plugins": [".tokfrag.leaderboard.asv_plugin"]}))
    env = dict(os.environ, PYTHONPATH=str(REPO), HOME=str(tmp_path))
    for _ in range(2):
        r = subprocess.run([sys.executable, "-m", "asv", "publish"], cwd=project, env=env,
                           capture_output=True, text=True, timeout=300)
        assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
        page = project / "html" / "leaderboard.html"
        assert page.is_file() and (project / "html" / "index.html").is_file()
        assert "tokfrag leaderboard" in page.read_text()


def test_no_framework_is_imported(results_dir, tmp_path):
    code = ("import sys; from tokfrag import leaderboard; from tokfrag.leaderboard import asv_plugin, export; "
            f"b = leaderboard.build({str(results_dir)!r}); leaderboard.write(b, {str(tmp_path)!r}); export.to_csv(b); "
            "bad = [m for m in ('torch', 'tensorflow', 'keras', 'jax') if m in sys.modules]; "
            "sys.exit(f'imported {bad}' if bad else 0)")
    r = subprocess.run([sys.executable, "-W", "ignore", "-c", code], cwd=REPO, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr


def test_results_of_a_renamed_benchmark_still_fill_their_column(tmp_path):
    """Step.peakmem_train (older commits) feeds the column Training.track_peak_memory feeds now."""
    bench = {("bench_pipelines.Step.peakmem_train" if n.endswith("track_peak_memory") else n): p
             for n, p in BENCHMARKS.items()}
    write_results(tmp_path, bench_params=bench)
    board, warned = build(tmp_path)
    cpu = [r for r in board.rows if r.device == "cpu"]
    assert cpu and all(r.cells["peak_memory"].mean == 1.4e9 for r in cpu)
    assert not any("peakmem_train" in w for w in warned)


def test_mode_rows_that_a_partial_run_did_not_select_are_not_shown(tmp_path):
    """asv stores the combinations a partial run skipped as NaN (skipped); a bf16 row with
    nothing but those is dropped, while the GPU rows that skipped (no GPU) stay."""
    VALUES["precision"] = ["fp32", "bf16"]
    try:
        bench = dict(BENCHMARKS)
        bench["bench_perf.Modes.time_train_step"] = STEP + ("precision",)

        def value(name, p):
            if name.endswith("Modes.time_train_step") and p.get("precision") == "bf16" \
                    and p["pipeline"] != "mnist/token":
                return math.nan  # not selected by the partial run
            return metric(name, p)

        write_results(tmp_path, bench_params=bench, value=value)
        board, _ = build(tmp_path)
    finally:
        del VALUES["precision"]
    bf16 = {(r.pipeline, r.params["framework"], r.device) for r in board.rows if r.params["precision"] == "bf16"}
    assert bf16 == {("mnist/token", fw, dev) for fw in ("pytorch", "tensorflow") for dev in ("cpu", "gpu")}
    assert len([r for r in board.rows if r.params["precision"] == "fp32"]) == 8


def test_matmul_peak_is_shown_with_its_machine(tmp_path):
    """bench_perf.Peak (device x precision) is machine context, MFU's denominator: no row, no warning."""
    VALUES["precision"] = ["fp32", "bf16"]
    try:
        bench = dict(BENCHMARKS)
        bench["bench_perf.Peak.track_peak_flops"] = ("device", "precision")

        def value(name, p):
            if name.endswith("track_peak_flops"):
                return math.nan if p["device"] == "gpu" else {"fp32": 1.407e11, "bf16": 9.9e10}[p["precision"]]
            return metric(name, p)

        write_results(tmp_path, bench_params=bench, value=value)
        board, warned = build(tmp_path)
    finally:
        del VALUES["precision"]
    assert board.machines["laptop"].peaks == {"cpu bf16": 9.9e10, "cpu fp32": 1.407e11}
    assert board.extra_params == [] and len(board.rows) == 8
    assert not any("track_peak_flops" in w for w in warned)
    assert "<td>cpu bf16 99GFLOP/s, cpu fp32 141GFLOP/s</td>" in leaderboard.page(board)


def test_a_skipped_bench_perf_default_does_not_hide_the_default_suites_value(tmp_path):
    """Modes.time_train_step(..., default, fp32) not selected (NaN) next to Step.time_train_step:
    the row keeps Step's number, in whichever order the records come."""
    VALUES["precision"] = ["fp32", "bf16"]
    VALUES["mode"] = ["default", "compiled"]
    try:
        bench = dict(BENCHMARKS)
        bench["bench_perf.Modes.time_train_step"] = STEP + ("mode", "precision")

        def value(name, p):
            if name.endswith("Modes.time_train_step"):
                return 0.5 if (p["mode"], p["precision"]) == ("compiled", "fp32") else math.nan
            return metric(name, p)

        write_results(tmp_path, bench_params=bench, value=value)
        board, _ = build(tmp_path)
    finally:
        del VALUES["precision"], VALUES["mode"]
    cpu = [r for r in board.rows if r.device == "cpu"]
    default = [r for r in cpu if (r.params["mode"], r.params["precision"]) == ("default", "fp32")]
    compiled = [r for r in cpu if (r.params["mode"], r.params["precision"]) == ("compiled", "fp32")]
    assert len(default) == 4 and all(r.cells["train_step"].mean == pytest.approx(0.025) for r in default)
    assert len(compiled) == 4 and all(r.cells["train_step"].mean == 0.5 for r in compiled)
    assert all(r.cells["accuracy"].status == "missing" for r in compiled)
    assert not [r for r in cpu if r.params["precision"] == "bf16"]


def test_memory_format_never_goes_scientific():
    from tokfrag.leaderboard.columns import memory

    assert memory(1021 * 2**20) == "1021 MiB" and memory(1.5 * 2**30) == "1.5 GiB" and memory(999) == "999 B"


def test_runs_of_older_benchmark_code_keep_their_value_but_lose_the_dead_link():
    """asv's graphs show only runs of a benchmark's current code (its version hash)."""
    from tokfrag.leaderboard.records import read_records

    meta = {"bench_pipelines.Step.time_train_step": {"param_names": ["framework", "pipeline", "device"],
                                                     "version": "new"}}
    row = {"machine": "m", "benchmark": "bench_pipelines.Step.time_train_step", "file": "f.json",
           "params": ("pytorch", "mnist/fragment", "cpu"), "raw_params": ("'pytorch'", "'mnist/fragment'", "'cpu'"),
           "value": 0.02, "status": "ok", "samples": None}
    old, current, unknown = (read_records([dict(row, version=v)], meta, set())[0] for v in ("old", "new", None))
    assert old.value == current.value == 0.02
    assert old.link == "" and current.link.startswith("index.html#bench_pipelines.Step.time_train_step?machine=m")
    assert unknown.link == current.link  # a results file without versions: linked as before


# --- the answer first, rankings per machine, annotations (issue #24) ----------------------------

def test_the_page_opens_with_the_answer(verdict_dir):
    board, _ = build(verdict_dir)
    text = leaderboard.page(board)
    page = Page(text)
    sections = [a for t, a in page.tags if t == "section"]
    assert sections[0] == {"id": "answer"}  # before every dataset's section
    start = text.index('<section id="answer">')
    answer = Page(text[start:text.index("</section>", start)])
    assert answer.rows == [
        "Accuracy: token − fragment, points [95% CI] transformer",
        "PyTorch +0.00 [−6.57, +6.57] 3 seeds · n.s.",
        "TensorFlow +4.03 [+3.65, +4.41] 3 seeds · token",
        "Training step: TensorFlow ÷ PyTorch [95% CI] transformer",
        "fragment 1.00× [0.99, 1.01] n.s.",
        "token 1.00× [0.82, 1.22] noisy: re-measure"]
    cells = [a for t, a in answer.tags if t == "td"]
    assert [c["class"] for c in cells] == ["v-none", "v-a", "v-none", "v-na"]  # coloured by verdict
    ids = {a["id"] for t, a in page.tags if t == "tr" and "id" in a}
    links = [a["href"] for t, a in answer.tags if t == "a" and a["href"].startswith("#d-")]
    assert len(links) == 4 and all(h[1:] in ids for h in links)  # each cell links to its pair's line
    tables = view.summary(board.datasets()["mnist"])
    assert [t.kind for t in tables] == ["accuracy", "speed"] and tables[0].columns == ["transformer"]


def test_summary_lines_per_machine_and_backbone(tmp_path):
    write_results(tmp_path, "gpubox", gpu=False)  # one seed, from before the seed parameter
    write_results(tmp_path, "laptop", gpu=False, seeds=True, value=seeded_accuracy)
    board, _ = build(tmp_path)
    acc = view.summary(board.datasets()["mnist"])[0]
    assert [line.label for line in acc.lines] == ["laptop · PyTorch", "laptop · TensorFlow", "gpubox · PyTorch",
                                                  "gpubox · TensorFlow"]  # most seeds first
    assert acc.lines[2].cells[0].note == "1 seed" and acc.lines[2].cells[0].tone == "na"
    assert acc.lines[0].filters == {"machine": "laptop", "device": "cpu", "framework": "pytorch"}


def test_rankings_are_per_machine(results_dir):
    board, _ = build(results_dir)
    rows = board.datasets()["mnist"]
    ranked = view.ranked(rows)
    by_machine = {}
    for rank, row in ranked:
        by_machine.setdefault(row.machine, []).append(rank)
    assert by_machine == {"gpubox": list(range(1, 9)), "laptop": list(range(1, 9))}
    assert [r.machine for _, r in ranked] == ["gpubox"] * 8 + ["laptop"] * 8  # never interleaved
    text = leaderboard.page(board)
    assert "Ranked within each machine" in text
    best = view.best_values(rows)
    assert best[("laptop", "accuracy")] == 96.0 and best[("gpubox", "throughput")] == 30000.0


ANNOTATIONS = """
[[exclude]]
machine = "gpubox"
metrics = "speed"
reason = "a test suite shared the cores"
"""


def test_excluded_values_are_greyed_and_kept_off_verdicts_plots_and_rankings(results_dir):
    (results_dir / "annotations.toml").write_text(ANNOTATIONS)
    board, _ = build(results_dir)
    gpubox = [r for r in board.rows if r.machine == "gpubox" and r.device == "cpu"]
    for r in gpubox:
        assert r.cells["throughput"].status == "ok"
        assert r.cells["throughput"].excluded == "a test suite shared the cores"
        assert r.value("throughput") is None and r.value("train_step") is None
        assert r.cells["accuracy"].excluded == "" and r.value("accuracy") is not None  # speeds only
    laptop = [r for r in board.rows if r.machine == "laptop" and r.device == "cpu"]
    assert all(r.value("throughput") is not None for r in laptop)
    duels = [d for d in model.tensorflow_vs_pytorch(board.rows) if d.a.machine == "gpubox"]
    assert duels and all(d.time_ratio is None and d.step is None for d in duels)
    text = leaderboard.page(board)
    page = Page(text)
    greyed = [a for t, a in page.tags if t == "td" and "excluded" in a.get("class", "")]
    # gpubox's 8 measured rows x 5 timing columns, less TensorFlow token's 2 targets never reached
    assert len(greyed) == 8 * 5 - 2
    assert all("a test suite shared the cores" in a["title"] and a["data-v"] == "" for a in greyed)
    points = [a for t, a in page.tags if t == "g" and "pt" in a.get("class", "").split()]
    assert points and {a["data-machine"] for a in points} == {"laptop"}  # no throughput: not plotted
    start = text.index('<section id="answer">')
    answer = Page(text[start:text.index("</section>", start)])
    assert "gpubox · cpu · fragment excluded" in answer.rows
    recs = export.records(board)
    rec = next(r for r in recs if r["machine"] == "gpubox" and r["device"] == "cpu")
    assert rec["throughput"] is not None and rec["throughput_excluded"] == "a test suite shared the cores"


@pytest.mark.parametrize("text, words", [
    ("[[exclude]]\nmetrics = 'speed'\nreason = 'x'\n", "needs machine"),
    ("[[exclude]]\nmachine = 'a'\n", "needs reason"),
    ("[[exclude]]\nmachine = 'a'\nreason = 'x'\nmetrics = 3\n", "metrics must be"),
    ("[[exclude]\n", "not valid TOML"),
    ("[[excluded]]\nmachine = 'a'\n", "unknown section"),
])
def test_malformed_annotations_are_errors(results_dir, text, words):
    (results_dir / "annotations.toml").write_text(text)
    with pytest.raises(UsageError, match=words):
        leaderboard.build(results_dir)


def test_annotations_select_by_commit_and_parameter(results_dir):
    (results_dir / "annotations.toml").write_text(
        "[[exclude]]\nmachine = 'laptop'\ncommit = 'bbbb'\npipeline = 'mnist/token'\nmetrics = ['track_accuracy']\n"
        "reason = 'a bad codebook'\n")
    board, _ = build(results_dir)
    excluded = {(r.pipeline, r.machine) for r in board.rows if r.cells["accuracy"].excluded}
    assert excluded == {("mnist/token", "laptop")}
    (results_dir / "annotations.toml").write_text(
        "[[exclude]]\nmachine = 'laptop'\ncommit = 'cccc'\nreason = 'another commit'\n")
    board, _ = build(results_dir)
    assert not any(c.excluded for r in board.rows for c in r.cells.values())


def test_committed_annotations_exclude_the_shared_core_speeds():
    board, _ = build(REPO / "results")
    epyc = [r for r in board.rows if r.machine == "epyc-avx512-2c" and r.measured]
    assert epyc and all(r.value("throughput") is None and r.cells["throughput"].excluded for r in epyc)
    assert all(r.value("accuracy") is not None for r in epyc)
    assert not [d for d in model.tensorflow_vs_pytorch(board.rows) if d.a.machine == "epyc-avx512-2c"
                and d.time_ratio is not None]


def test_generated_write_ups_match_the_committed_results():
    """The README's answer and docs/results/<machine>.md are generated (`tokfrag publish --docs`): they say
    what the committed results say, so they cannot drift from the numbers."""
    from tokfrag.leaderboard import writeup

    board, _ = build(REPO / "results")
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    assert writeup.README_START in readme and writeup.README_END in readme
    assert writeup.update_readme(readme, board) == readme, "README's answer is stale: run tokfrag publish --docs"
    for name in board.machines:
        path = REPO / "docs" / "results" / f"{name}.md"
        assert path.read_text(encoding="utf-8") == writeup.machine(board, name), f"{path} is stale"
    answer = writeup.answer(board)
    assert "| text | transformer | +11.68 [+10.98, +12.38] token |" in answer  # from the results, with its interval
    assert answer.startswith("On `vm-863373`")  # the machine with the most seeds


def test_the_readme_is_a_users_guide():
    import re

    from tokfrag.leaderboard import writeup

    readme = (REPO / "README.md").read_text(encoding="utf-8")
    lines = readme.split("\n")
    assert len(lines) < 470
    head = "\n".join(lines[:90])
    for words in ("## The answer so far", "make bench", "make test", "## The first five minutes", "tokfrag prepare",
                  "tokfrag train", "tokfrag parity", "tokfrag publish", "tokfrag serve"):
        assert words in head, words
    outside = readme.split(writeup.README_START)[0] + readme.split(writeup.README_END)[1]
    hashes = [h for h in re.findall(r"\b[0-9a-f]{7,40}\b", outside) if re.search("[a-f]", h) and re.search("[0-9]", h)]
    assert len(hashes) <= 2, hashes
    headings = [ln for ln in lines if ln.startswith("## ")]
    assert headings.index("## Map of the code") == len(headings) - 1
    assert "## At every scale" in headings and "### On a GPU" in lines
