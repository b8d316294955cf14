"""`tokfrag compare`: the regression gate's verdicts and exit codes, on a real asv results file.

The fixture (tests/data/compare/, see its README) is a real `asv run --record-samples` of
Step.time_train_step, Step.peakmem_train and Training.track_* for (pytorch, mnist/fragment, cpu),
with TOKFRAG_SMOKE=1. Each test copies it and edits one number on purpose. The seed tests derive
from it the results of the Training benchmarks with a `seed` parameter (`_seeded`, see the README).
"""

import argparse
import copy
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from helpers import needs
from tokfrag import compare

REPO_ROOT = Path(__file__).resolve().parents[1]
DATA = Path(__file__).resolve().parent / "data" / "compare" / "results"
FIXTURE = next((DATA / "fixture").glob("*-*.json"))
STEP = "bench_pipelines.Step.time_train_step"
ACC = "bench_pipelines.Training.track_accuracy"
PEAKMEM = "bench_pipelines.Step.peakmem_train"
THROUGHPUT = "bench_pipelines.Training.track_train_throughput"
COMBO = 0  # ('pytorch', 'mnist/fragment', 'cpu'): the one combination the fixture ran


def _doc() -> dict:
    return json.loads(FIXTURE.read_text())


def _columns(doc) -> dict:
    return {c: i for i, c in enumerate(doc["result_columns"])}


def _write(tmp_path: Path, side: str, doc: dict, machine: str = "fixture", benchmarks: dict | None = None) -> Path:
    """A results folder <tmp>/<side>/results/<machine>/<commit>-<env>.json plus benchmarks.json."""
    root = tmp_path / side / "results"
    (root / machine).mkdir(parents=True, exist_ok=True)
    if benchmarks is None:
        shutil.copy(DATA / "benchmarks.json", root / "benchmarks.json")
    else:
        (root / "benchmarks.json").write_text(json.dumps(benchmarks))
    doc = copy.deepcopy(doc)
    doc["params"]["machine"] = machine
    path = root / machine / FIXTURE.name
    path.write_text(json.dumps(doc))
    return path


def _scale_time(doc: dict, name: str, factor: float) -> dict:
    """Multiply a time benchmark's result, samples and stats by ``factor`` (a slowdown)."""
    doc = copy.deepcopy(doc)
    col, entry = _columns(doc), doc["results"][name]
    for c in ("result", "stats_ci_99_a", "stats_ci_99_b", "stats_q_25", "stats_q_75"):
        entry[col[c]][COMBO] *= factor
    if entry[col["samples"]]:
        entry[col["samples"]][COMBO] = [s * factor for s in entry[col["samples"]][COMBO]]
    return doc


def _set(doc: dict, name: str, value) -> dict:
    doc = copy.deepcopy(doc)
    doc["results"][name][_columns(doc)["result"]][COMBO] = value
    return doc


def _run(base: Path, head: Path, **kw) -> compare.Comparison:
    return compare.compare(base, head, **kw)


def _row(result: compare.Comparison, name: str) -> compare.Row:
    """The row of the one combination the fixture ran (pytorch, mnist/fragment, cpu)."""
    (row,) = [r for r in result.rows if r.benchmark == name and r.params[:3] == ("pytorch", "mnist/fragment", "cpu")]
    return row


def test_identical_results_exit_0(tmp_path):
    base = _write(tmp_path, "base", _doc())
    head = _write(tmp_path, "head", _doc())
    result = _run(base, head)
    assert result.exit_code == 0, result.table()
    assert {r.status for r in result.rows} == {"unchanged", "skipped"}
    assert result.count("unchanged") == 4  # time_to_target is NaN (never reached) on both sides
    # skipped (NaN) on both sides is fine: counted, not listed
    assert result.count("skipped") > 0 and "skipped on both sides are not listed" in result.table()
    assert "exit 0" in result.table()


def test_two_times_slower_train_step_exit_1(tmp_path):
    base = _write(tmp_path, "base", _doc())
    head = _write(tmp_path, "head", _scale_time(_doc(), STEP, 2.0))
    result = _run(base, head)
    row = _row(result, STEP)
    assert row.status == "regressed", result.table()
    assert row.change == "x2.00" and "U test" in row.note
    assert result.exit_code == 1
    assert "REGRESSED" in result.table()


def test_2x_faster_is_an_improvement(tmp_path):
    base = _write(tmp_path, "base", _doc())
    head = _write(tmp_path, "head", _scale_time(_doc(), STEP, 0.5))
    result = _run(base, head)
    assert _row(result, STEP).status == "improved"
    assert result.exit_code == 0


def test_real_noise_is_not_a_regression():
    """Two real runs of the same code on a loaded 2-core machine (2 threads, not pinned): the
    medians differ 2.65x, but the samples overlap (U test p=0.16): no verdict either way."""
    noisy = DATA.parent / "noisy"
    result = _run(noisy / "run2.json", noisy / "run1.json")
    row = _row(result, STEP)
    assert row.status == "unchanged" and row.change == "~x2.65", result.table()
    assert "U test p=0.16" in row.note
    assert result.exit_code == 0


def test_significant_but_inside_the_factor_is_unchanged(tmp_path):
    base = _write(tmp_path, "base", _doc())
    head = _write(tmp_path, "head", _scale_time(_doc(), STEP, 1.08))
    assert _row(_run(base, head), STEP).status == "unchanged"
    assert _row(_run(base, head, factor=1.05), STEP).status in ("regressed", "unchanged")


def test_without_samples_falls_back_to_ci_and_says_so(tmp_path):
    doc = _doc()
    doc["results"][STEP][_columns(doc)["samples"]] = None
    base = _write(tmp_path, "base", doc)
    head = _write(tmp_path, "head", _scale_time(doc, STEP, 3.0))
    row = _row(_run(base, head), STEP)
    assert row.status == "regressed"
    assert "no samples" in row.note and "99% CIs disjoint" in row.note


def test_accuracy_drop_beyond_tolerance_exit_1(tmp_path):
    base = _write(tmp_path, "base", _doc())
    head = _write(tmp_path, "head", _set(_doc(), ACC, _doc()["results"][ACC][0][COMBO] - 1.5))
    result = _run(base, head)
    assert _row(result, ACC).status == "regressed", result.table()
    assert result.exit_code == 1
    assert _run(base, head, accuracy_tol=2.0).exit_code == 0  # inside a wider stated tolerance


# --- seeds: the Training benchmarks with a 4th parameter `seed` ----------------------------

TTT = "bench_pipelines.Training.track_time_to_target"
PEAK = "bench_pipelines.Training.track_peak_memory"
BATCH = "bench_pipelines.Training.track_batch_size"
# realistic full-training values per seed (seeds 0, 1, 2) for the one combination that ran: the smoke
# fixture's own numbers (22.8% after one short epoch, time to target never) are not what seeds spread
BASE_SEEDS = {ACC: [97.1, 96.8, 97.4], THROUGHPUT: [406.2, 398.7, 411.5], TTT: [41.2, 44.8, 39.5],
              PEAK: [1_248_321_536, 1_251_467_264, 1_249_370_112], BATCH: [64, 64, 64]}
NEW_TRACKS = {PEAK: "bytes", BATCH: "samples"}  # in the suite, not in the fixture (it predates them)


def _seeded(values: dict, n_seeds: int = 3, quoted: bool = False) -> tuple[dict, dict]:
    """(results, benchmarks.json) of the fixture as the suite writes it now: every Training
    benchmark has a 4th parameter ``seed`` (asv's reprs of benchmarks/common.SEEDS, ints: ``0``,
    ``1``, ...; with ``quoted``, of strings: ``'0'``, ``'1'``, ...), each old combination
    expanding into one per seed (the last parameter varies fastest, as in asv's cartesian
    product). The combination that ran gets ``values[name]`` (one per seed; None: failed, NaN:
    never reached or skipped), the others NaN (skipped) as in the fixture. ``track_peak_memory``
    and ``track_batch_size`` are added with the metadata asv would write (the fixture predates them)."""
    doc, bench = _doc(), json.loads((DATA / "benchmarks.json").read_text())
    col = _columns(doc)
    seeds = [f"'{i}'" if quoted else str(i) for i in range(n_seeds)]
    for name, unit in NEW_TRACKS.items():  # modelled on track_accuracy's entry and metadata
        doc["results"][name] = copy.deepcopy(doc["results"][ACC])
        bench[name] = dict(copy.deepcopy(bench[ACC]), name=name, unit=unit)
    for name, per_seed in values.items():
        entry = doc["results"][name]
        assert len(per_seed) == n_seeds
        n_before = len(entry[col["result"]])
        entry[col["params"]] = entry[col["params"]] + [seeds]
        result = []
        for i in range(n_before):
            result += list(per_seed) if i == COMBO else [float("nan")] * n_seeds
        entry[col["result"]] = result
        bench[name]["param_names"] = bench[name]["param_names"] + ["seed"]
        bench[name]["params"] = entry[col["params"]]
    return doc, bench


def _seeded_run(tmp_path, head: dict, base: dict | None = None, n_head: int = 3, n_base: int = 3,
                quoted: bool = False, **kw):
    """Compare base (BASE_SEEDS, or ``base``) with head: BASE_SEEDS with ``head``'s per-seed values."""
    b_doc, b_bench = _seeded(base or BASE_SEEDS, n_base, quoted)
    h_doc, h_bench = _seeded({**BASE_SEEDS, **head}, n_head, quoted)
    b = _write(tmp_path, "base", b_doc, benchmarks=b_bench)
    h = _write(tmp_path, "head", h_doc, benchmarks=h_bench)
    return b, h, _run(b, h, **kw)


def _rows(result: compare.Comparison, name: str) -> list:
    return [r for r in result.rows if r.benchmark == name and r.params[:3] == ("pytorch", "mnist/fragment", "cpu")]


def test_seeded_identical_results_one_row_per_combination(tmp_path):
    """Each seeded benchmark gives one row over its seeds, never one row of noise per seed."""
    _, _, result = _seeded_run(tmp_path, {})
    assert result.exit_code == 0, result.table()
    for name in (ACC, THROUGHPUT, TTT, PEAK, BATCH):
        (row,) = _rows(result, name)
        assert row.params == ("pytorch", "mnist/fragment", "cpu", "seed=*") and row.status == "unchanged"
    assert _row(result, ACC).note == ("3 seeds, paired by seed, 95% t interval of the mean difference (n - 1 df): "
                                      "[+0.00, +0.00] pt, contains 0: inside the seed noise")
    for name in (THROUGHPUT, TTT, PEAK, BATCH):
        assert _row(result, name).note.startswith("mean of 3 seeds"), _row(result, name).note
    assert _row(result, BATCH).base == 64 and _row(result, ACC).base == pytest.approx(97.1)
    # the other 7 combinations, NaN (skipped) for every seed on both sides: one skipped row each,
    # as for the two Step benchmarks without a seed parameter
    assert result.count("skipped") == 5 * 7 + 2 * 7
    # seeds as strings ('0', ...) rather than ints: the same seeds, paired the same way
    _, _, quoted = _seeded_run(tmp_path / "quoted", {ACC: [94.2, 93.7, 94.5]}, quoted=True)
    assert _row(quoted, ACC).status == "regressed" and quoted.exit_code == 1, quoted.table()


def test_seeded_accuracy_drop_inside_the_seed_noise_passes(tmp_path, capsys):
    """Seed 0 drops 2.5 pt, seed 1 gains 0.3, seed 2 drops 1.3: a mean drop of 1.17 pt, beyond the
    1 pt tolerance, but the paired interval [-4.66, +2.32] contains 0: inside the seed noise."""
    base, head, result = _seeded_run(tmp_path, {ACC: [94.6, 97.1, 96.1]})
    row = _row(result, ACC)
    assert row.status == "unchanged" and result.exit_code == 0, result.table()
    assert row.change == "-1.17 pt" and (row.base, row.head) == (pytest.approx(97.1), pytest.approx(95.9333, abs=1e-4))
    assert row.note == ("3 seeds, paired by seed, 95% t interval of the mean difference (n - 1 df): "
                        "[-4.66, +2.32] pt, contains 0: inside the seed noise")
    # on the command line, with the two results folders
    assert _cli(["compare", str(base.parents[1]), str(head.parents[1])]) == 0
    out = capsys.readouterr().out
    assert "Training.track_accuracy(pytorch, mnist/fragment, cpu, seed=*)" in out and "-1.17 pt" in out
    assert "accuracy: seeds paired (95% t interval, floor 0.1 pt) or else tolerance 1 pt" in out
    assert "exit 0 (no regression)" in out


def test_seeded_accuracy_drop_outside_the_seed_noise_fails(tmp_path, capsys):
    """Every seed drops about 3 pt: the interval [-3.25, -2.68] lies below 0: regressed, exit 1."""
    base, head, result = _seeded_run(tmp_path, {ACC: [94.2, 93.7, 94.5]})
    row = _row(result, ACC)
    assert row.status == "regressed" and result.exit_code == 1, result.table()
    assert row.change == "-2.97 pt"
    assert row.note == ("3 seeds, paired by seed, 95% t interval of the mean difference (n - 1 df): "
                        "[-3.25, -2.68] pt, below 0")
    assert _cli(["compare", str(base.parents[1]), str(head.parents[1])]) == 1
    out = capsys.readouterr().out
    line = next(x for x in out.splitlines() if "track_accuracy(pytorch, mnist/fragment, cpu, seed=*)" in x)
    assert line.startswith("REGRESSED") and "97.10%" in line and "94.13%" in line and line.endswith("below 0")
    assert "1 regressed" in out and "exit 1 (regression)" in out


def test_seeded_accuracy_improvement(tmp_path):
    """+0.8 pt on every seed, give or take 0.1: less than the 1 pt tolerance, yet consistent: improved."""
    _, _, result = _seeded_run(tmp_path, {ACC: [97.9, 97.5, 98.3]})
    row = _row(result, ACC)
    assert row.status == "improved" and result.exit_code == 0, result.table()
    assert row.change == "+0.80 pt" and row.note.endswith("[+0.55, +1.05] pt, above 0")


def test_seeded_accuracy_tiny_consistent_drop_is_under_the_floor(tmp_path):
    """A deterministic run moving every seed by the same 0.05 pt: an interval of (nearly) zero width
    below 0, but a drop under the 0.1 pt floor: unchanged."""
    _, _, result = _seeded_run(tmp_path, {ACC: [v - 0.05 for v in BASE_SEEDS[ACC]]})
    row = _row(result, ACC)
    assert row.status == "unchanged" and result.exit_code == 0, result.table()
    assert row.change == "-0.05 pt" and row.note.endswith("[-0.05, -0.05] pt, below 0 but within the 0.1 pt floor")
    assert compare.ACCURACY_FLOOR == 0.1


def test_one_seed_falls_back_to_the_tolerance(tmp_path):
    """`tokfrag bench --seeds 1`: no interval from one pair, the fixed tolerance decides, and says so."""
    one = {k: v[:1] for k, v in BASE_SEEDS.items()}
    base, head, result = _seeded_run(tmp_path, {**one, ACC: [95.9]}, base=one, n_head=1, n_base=1)
    row = _row(result, ACC)
    assert row.status == "regressed" and result.exit_code == 1, result.table()
    assert row.change == "-1.20 pt" and row.note == "1 seed (0): no interval, tolerance 1 pt"
    assert _run(base, head, accuracy_tol=1.5).exit_code == 0  # inside a wider stated tolerance
    assert _row(result, THROUGHPUT).note == "mean of 1 seed"


def test_seeds_on_one_side_only_are_named_and_not_judged(tmp_path):
    """Head ran `--seeds 5`, base the default 3: judged on seeds 0-2, seeds 3 and 4 named in the note."""
    five = {k: v + v[:2] for k, v in BASE_SEEDS.items()}
    _, _, result = _seeded_run(tmp_path, {**five, ACC: [94.2, 93.7, 94.5, 97.0, 97.2]}, n_head=5)
    row = _row(result, ACC)
    assert row.status == "regressed" and result.exit_code == 1, result.table()
    assert row.note.endswith("[-3.25, -2.68] pt, below 0; seed 3, 4 in the head results only: not judged")
    assert _row(result, THROUGHPUT).note == "mean of 3 seeds; seed 3, 4 in the head results only: not judged"


def test_seeded_failed_or_half_skipped_seed_exit_2(tmp_path):
    _, _, result = _seeded_run(tmp_path, {ACC: [97.0, None, 97.3]})
    row = _row(result, ACC)
    assert row.status == "failed" and row.note == "seed 1: failed on head (null in the results file)"
    assert result.exit_code == 2
    _, _, result = _seeded_run(tmp_path / "2", {THROUGHPUT: [406.2, float("nan"), 411.5]})
    row = _row(result, THROUGHPUT)
    assert row.status == "incomparable" and row.note == "seed 1: skipped (NaN) on head only"
    assert result.exit_code == 2
    # a failed seed on one side only fails too: it ran, and crashed
    five = {k: v + v[:2] for k, v in BASE_SEEDS.items()}
    _, _, result = _seeded_run(tmp_path / "3", {**five, ACC: [97.1, 96.8, 97.4, 97.0, None]}, n_head=5)
    assert _row(result, ACC).status == "failed" and result.exit_code == 2
    assert _row(result, ACC).note.startswith("seed 4: failed on head (null in the results file), in the head results")


def test_seeded_time_to_target_never_reached_by_a_seed(tmp_path):
    """Seed 1 never reaches the target on head (NaN), all three do on base: regressed, although the
    seeds that still reach it are as fast as before."""
    nan = float("nan")
    _, _, result = _seeded_run(tmp_path, {TTT: [42.0, nan, 40.1]})
    (row,) = _rows(result, TTT)
    assert row.status == "regressed" and result.exit_code == 1, result.table()
    assert row.note == ("target reached by 3 of 3 seeds on base, 2 on head: no longer by seed 1 (NaN: never); "
                        "means over the 2 seeds reaching it on both sides")
    assert (row.base, row.head, row.change) == (pytest.approx(40.35), pytest.approx(41.05), "x1.02")
    # the other way round: an improvement
    _, _, result = _seeded_run(tmp_path / "2", {TTT: BASE_SEEDS[TTT]}, base={**BASE_SEEDS, TTT: [42.0, nan, 40.1]})
    assert _row(result, TTT).status == "improved" and "now by seed 1" in _row(result, TTT).note
    # every seed never reaches it on head
    _, _, result = _seeded_run(tmp_path / "3", {TTT: [nan, nan, nan]})
    row = _row(result, TTT)
    assert row.status == "regressed" and row.head == "never" and "no longer by seed 0, 1, 2" in row.note
    # all seeds reach it, 1.5x later: the factor on the means
    _, _, result = _seeded_run(tmp_path / "4", {TTT: [v * 1.5 for v in BASE_SEEDS[TTT]]})
    row = _row(result, TTT)
    assert (row.status, row.change, row.note) == ("regressed", "x1.50", "mean of 3 seeds")
    # never reached by any seed on either side: skipped, as one combination NaN on both sides
    _, _, result = _seeded_run(tmp_path / "5", {TTT: [nan] * 3}, base={**BASE_SEEDS, TTT: [nan] * 3})
    assert _row(result, TTT).status == "skipped" and result.exit_code == 0


def test_seeded_throughput_memory_batch_size_on_the_means(tmp_path):
    """One verdict on the means over seeds: a 5% swing of single seeds is no regression; a 20%
    slower mean is; peak memory by the factor; batch size (direction unknown) only "changed"."""
    tput = BASE_SEEDS[THROUGHPUT]
    _, _, result = _seeded_run(tmp_path, {THROUGHPUT: [tput[0] * 0.95, tput[1] * 1.05, tput[2] * 0.97]})
    assert _row(result, THROUGHPUT).status == "unchanged" and result.exit_code == 0
    _, _, result = _seeded_run(tmp_path / "2", {THROUGHPUT: [v * 0.8 for v in tput],
                                                PEAK: [v * 1.3 for v in BASE_SEEDS[PEAK]], BATCH: [32, 32, 32]})
    rows = {name: _row(result, name) for name in (THROUGHPUT, PEAK, BATCH)}
    assert [r.status for r in rows.values()] == ["regressed", "regressed", "changed"], result.table()
    assert rows[THROUGHPUT].change == "x0.80" and rows[THROUGHPUT].note == "mean of 3 seeds"
    assert rows[BATCH].note == "mean of 3 seeds; direction unknown: reported as changed, never as regression"
    assert result.exit_code == 1


def test_base_without_a_seed_parameter_is_judged_unpaired(tmp_path):
    """Base ran before the suite had a seed parameter: its one run against head's mean over seeds."""
    base = _write(tmp_path, "base", _set(_doc(), ACC, 97.3))
    h_doc, h_bench = _seeded(BASE_SEEDS)
    head = _write(tmp_path, "head", h_doc, benchmarks=h_bench)
    result = _run(base, head, benchmark_regex="track_accuracy")
    row = _row(result, ACC)
    assert row.status == "unchanged" and result.exit_code == 0, result.table()
    assert (row.base, row.head, row.change) == (97.3, pytest.approx(97.1), "-0.20 pt")
    assert row.note == ("the base results have no seed parameter: their one run against the mean of 3 head seeds, "
                        "unpaired; tolerance 1 pt (no seed parameter)")
    h_doc, h_bench = _seeded({ACC: [94.2, 93.7, 94.5]})
    result = _run(base, _write(tmp_path, "head2", h_doc, benchmarks=h_bench), benchmark_regex="track_accuracy")
    assert _row(result, ACC).status == "regressed" and result.exit_code == 1


def test_seed_rules():
    """The seed rules on their own: the floor, and time to target with seeds moving both ways."""
    nan = float("nan")
    base = {"0": 97.1, "1": 96.8, "2": 97.4}

    def acc(head, tol=1.0):
        return compare.judge_accuracy_seeds(base, dict(zip(base, head)), tol)[0]

    assert acc([97.1, 96.8, 97.4]) == "unchanged"
    assert acc([97.09, 96.79, 97.39]) == "unchanged"  # 0.01 pt, bit-exact on every seed: under the floor
    assert acc([96.9, 96.6, 97.2]) == "regressed"  # 0.2 pt on every seed: beyond the floor, no spread
    assert acc([90.0, 97.0, 97.5]) == "unchanged"  # one diverging seed: 3 seeds cannot tell
    ttt = {"0": 40.0, "1": nan, "2": 50.0}

    def time_to_target(head):
        return compare.judge_time_to_target_seeds(ttt, dict(zip(ttt, head)), 1.1)[0]

    assert time_to_target([40.0, 45.0, nan]) == "unchanged"  # seed 1 now reaches it, seed 2 no longer
    assert time_to_target([80.0, 45.0, 50.0]) == "regressed"  # one more seed reaches it, but seed 0 2x later
    assert time_to_target([40.0, 45.0, 50.0]) == "improved"
    assert time_to_target([nan, 45.0, nan]) == "regressed"
    status, b, h, change, note = compare.judge_seeds("memory", {"0": 100, "1": 110}, {"0": 130, "1": 140}, 1.1, 1.0)
    assert (status, b, h, change, note) == ("regressed", 105, 135, "x1.29", "mean of 2 seeds")




def test_failed_on_head_exit_2(tmp_path):
    base = _write(tmp_path, "base", _doc())
    head = _write(tmp_path, "head", _set(_scale_time(_doc(), STEP, 2.0), ACC, None))
    result = _run(base, head)
    row = _row(result, ACC)
    assert row.status == "failed" and "failed on head" in row.note
    assert result.exit_code == 2  # 2 wins over the regression of the train step
    assert "FAILED" in result.table()


def test_missing_on_one_side_exit_2(tmp_path):
    doc = _doc()
    del doc["results"][PEAKMEM]
    result = _run(_write(tmp_path, "base", _doc()), _write(tmp_path, "head", doc))
    assert _row(result, PEAKMEM).status == "missing"
    assert result.exit_code == 2


def test_skipped_on_one_side_only_exit_2(tmp_path):
    result = _run(_write(tmp_path, "base", _doc()),
                  _write(tmp_path, "head", _set(_doc(), THROUGHPUT, float("nan"))))
    assert _row(result, THROUGHPUT).status == "incomparable"
    assert result.exit_code == 2


def test_memory_and_throughput_by_factor(tmp_path):
    doc = _doc()
    mem = doc["results"][PEAKMEM][0][COMBO]
    tput = doc["results"][THROUGHPUT][0][COMBO]
    head = _set(_set(doc, PEAKMEM, mem * 1.5), THROUGHPUT, tput * 1.05)
    result = _run(_write(tmp_path, "base", doc), _write(tmp_path, "head", head))
    assert _row(result, PEAKMEM).status == "regressed"
    assert _row(result, THROUGHPUT).status == "unchanged"  # +5% is inside the factor
    head = _set(doc, THROUGHPUT, tput / 1.5)
    result = _run(_write(tmp_path, "base", doc), _write(tmp_path, "head2", head))
    assert _row(result, THROUGHPUT).status == "regressed"


def test_rules_of_parity_time_to_target_and_unknown_tracks():
    C, nan = compare.Combo, float("nan")

    def status(kind, b, h):
        return compare.judge_pair(kind, C(b), C(h), factor=1.1, accuracy_tol=1.0)[0]

    assert status("parity", 0, 2) == "regressed" and status("parity", 3, 0) == "improved"
    assert status("parity", 0, 0) == "unchanged"
    assert status("time_to_target", 30.0, nan) == "regressed"  # NaN: the target is no longer reached
    assert status("time_to_target", nan, 30.0) == "improved"
    assert status("time_to_target", nan, nan) == "skipped"
    assert status("time_to_target", 30.0, 40.0) == "regressed"
    assert status("throughput", 100.0, 80.0) == "regressed"
    assert status("unknown", 1.0, 2.0) == "changed" and status("unknown", 2.0, 1.0) == "changed"
    assert status("memory", 100, None) == "failed" and status("memory", None, None) == "failed"
    assert status("memory", 100, nan) == "incomparable"
    assert compare.kind_of("bench_parity.Parity.track_parity", {"type": "track", "unit": "failed checks"}) == "parity"
    assert compare.kind_of("b.Gpu.track_gpu_peak", {"type": "track", "unit": "bytes"}) == "memory"
    assert compare.kind_of("b.T.track_widgets", {"type": "track", "unit": "widgets"}) == "unknown"
    assert compare.kind_of("b.Step.time_x", {}) == "time" and compare.kind_of("b.Step.peakmem_x", {}) == "memory"


def test_different_machines_exit_2_with_message(tmp_path, capsys):
    base = _write(tmp_path, "base", _doc(), machine="laptop")
    head = _write(tmp_path, "head", _doc(), machine="ci-runner")
    with pytest.raises(compare.CompareError, match="different machines: base 'laptop'.*head 'ci-runner'"):
        _run(base, head)
    assert _cli(["compare", str(base), str(head)]) == 2
    err = capsys.readouterr().err
    assert "laptop" in err and "ci-runner" in err


def test_different_hardware_under_one_machine_name_exit_2(tmp_path, capsys):
    """Two hosts called "vm" with different CPUs: the gate refuses, saying what differs."""
    hw = {"cpu": "AMD EPYC", "cpu_isa": "avx2 fma", "num_cpu": "2", "ram": "25276510208", "gpu": "none"}
    base_doc, head_doc = _doc(), _doc()
    base_doc["params"].update(hw)
    head_doc["params"].update(hw, cpu="Intel(R) Xeon(R) Processor", cpu_isa="avx2 fma avx512f amx_bf16")
    base = _write(tmp_path, "base", base_doc)
    head = _write(tmp_path, "head", head_doc)
    with pytest.raises(compare.CompareError, match=r"different hardware under one machine name 'fixture': "
                                                   r"cpu: AMD EPYC vs Intel\(R\) Xeon\(R\) Processor; cpu_isa"):
        _run(base, head)
    assert _cli(["compare", str(base), str(head)]) == 2
    assert "different hardware" in capsys.readouterr().err
    # the same hardware (RAM within rounding, one file older than cpu_isa) still compares
    head_doc["params"].update(hw, ram="25276514304")
    del head_doc["params"]["cpu_isa"]
    assert _run(base, _write(tmp_path, "head", head_doc)).exit_code == 0


def test_results_measured_on_different_data_exit_2(tmp_path, capsys):
    """`tokfrag bench` records each benchmarked dataset's fingerprint (machine parameter data_<name>): two
    results of mnist pipelines measured on different data under the name mnist are not compared."""
    base_doc, head_doc = _doc(), _doc()
    base_doc["params"].update(data_mnist="a" * 64, data_own="c" * 64)
    head_doc["params"].update(data_mnist="b" * 64, data_own="d" * 64)
    base, head = _write(tmp_path, "base", base_doc), _write(tmp_path, "head", head_doc)
    with pytest.raises(compare.CompareError, match="different data under one dataset name: mnist: data aaaaaaaaaaaa "
                                                   "in base vs bbbbbbbbbbbb in head"):
        _run(base, head)
    assert _cli(["compare", str(base), str(head)]) == 2
    assert "different data" in capsys.readouterr().err
    # the same mnist: compared; own's data differs, but no own pipeline was benchmarked in these files
    head_doc["params"]["data_mnist"] = "a" * 64
    assert _run(base, _write(tmp_path, "head", head_doc)).exit_code == 0
    # a side that recorded no fingerprint (plain asv run) cannot tell: compared
    del head_doc["params"]["data_mnist"]
    assert _run(base, _write(tmp_path, "head", head_doc)).exit_code == 0


def test_benchmark_regex_selects(tmp_path):
    base = _write(tmp_path, "base", _doc())
    head = _write(tmp_path, "head", _set(_scale_time(_doc(), STEP, 2.0), ACC, None))
    assert _run(base, head, benchmark_regex=r"time_train_step").exit_code == 1
    assert _run(base, head, benchmark_regex=r"peakmem").exit_code == 0
    # asv's parameter syntax: name(param reprs)
    assert _run(base, head, benchmark_regex=r"time_train_step\('tensorflow'").exit_code == 0


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="tokfrag")
    sub = p.add_subparsers(dest="command", required=True)
    compare.add_parser(sub)
    return p


def _cli(argv) -> int:
    from tokfrag import cli

    return cli.main(argv)  # user errors become exit code 2 in main, as for `tokfrag compare`


def test_cli_parse_and_exit_codes(tmp_path, capsys):
    base = _write(tmp_path, "base", _doc())
    slow = _write(tmp_path, "head", _scale_time(_doc(), STEP, 2.0))
    args = _parser().parse_args(["compare", str(base), str(slow), "--factor", "1.5", "--only-changed",
                                 "--benchmark", "Step", "--machine", "fixture", "--results", str(tmp_path)])
    assert (args.factor, args.only_changed, args.benchmark, args.machine) == (1.5, True, "Step", "fixture")
    assert args.func(args) == 1
    out = capsys.readouterr().out
    assert "REGRESSED" in out and "unchanged  " not in out  # --only-changed hides unchanged rows
    assert _cli(["compare", str(base), str(base)]) == 0
    assert _cli(["compare", str(base), str(slow), "--factor", "2.5"]) == 0  # 2x is inside a 2.5 factor
    assert _cli(["compare", str(base), str(tmp_path / "nowhere")]) == 2
    assert "neither a results file" in capsys.readouterr().err
    help_text = _parser().format_help() + _parser()._subparsers._group_actions[0].choices["compare"].format_help()
    assert "default 1.1" in help_text and "exit codes" in help_text


def test_bench_against_options_reach_bench_against(monkeypatch):
    """The options `tokfrag bench --against` gets from add_against_arguments, as cli.py wires them."""
    from tokfrag import cli, continuous

    seen = {}

    def fake(ref, bench, **kw):
        seen.update(ref=ref, bench=bench, **kw)
        return 1

    monkeypatch.setattr(continuous, "bench_against", fake)
    p = cli.parser()
    bench = p._subparsers._group_actions[0].choices["bench"]
    if not any("--against" in a.option_strings for a in bench._actions):
        continuous.add_against_arguments(bench)  # until tokfrag/cli.py wires it itself
    args = p.parse_args(["bench", "--against", "HEAD~1", "-b", "Step", "--rounds", "3", "--factor", "1.3",
                         "--smoke", "--workdir", "/tmp/w", "--html", "html"])
    assert continuous.run_args(args) == 1
    assert seen["ref"] == "HEAD~1" and seen["bench"] == ["Step"]
    got = (seen["rounds"], seen["factor"], seen["smoke"], seen["workdir"], seen["html_dir"])
    assert got == (3, 1.3, True, "/tmp/w", "html")


def test_bench_against_bad_ref_exits_2(capsys):
    from tokfrag import continuous

    assert continuous.bench_against("no-such-revision-xyz", ["Step"], REPO_ROOT) == 2
    assert "is not a commit" in capsys.readouterr().err


def test_commits_resolved_through_git(tmp_path):
    """BASE/HEAD as git revisions: results/<machine>/<sha8>-<env>.json of that commit."""
    repo = tmp_path / "repo"
    repo.mkdir()
    env = dict(os.environ, GIT_AUTHOR_NAME="t", GIT_AUTHOR_EMAIL="t@t.invalid",
               GIT_COMMITTER_NAME="t", GIT_COMMITTER_EMAIL="t@t.invalid")

    def git(*a):
        return subprocess.run(["git", *a], cwd=repo, env=env, check=True, capture_output=True, text=True).stdout.strip()

    git("init", "-q")
    shas = []
    for i in range(2):
        (repo / "f").write_text(str(i))
        git("add", "f")
        git("commit", "-q", "-m", str(i))
        shas.append(git("rev-parse", "HEAD"))
    results = repo / "results" / "fixture"
    results.mkdir(parents=True)
    shutil.copy(DATA / "benchmarks.json", repo / "results" / "benchmarks.json")
    for sha, doc in zip(shas, (_doc(), _scale_time(_doc(), STEP, 2.0))):
        doc["commit_hash"] = sha
        (results / f"{sha[:8]}-{doc['env_name']}.json").write_text(json.dumps(doc))
    result = compare.compare("HEAD~1", "HEAD", repo=repo)
    assert result.exit_code == 1 and result.base.commit == shas[0]
    assert compare.compare(shas[0][:10], "HEAD", repo=repo, machine="fixture").exit_code == 1
    with pytest.raises(compare.CompareError, match="no results for"):
        compare.compare("HEAD", "HEAD", repo=repo, machine="other")


def test_help_lists_compare():
    r = subprocess.run([sys.executable, "-c", "import argparse; from tokfrag import compare; "
                        "p = argparse.ArgumentParser(prog='tokfrag'); s = p.add_subparsers(); "
                        "compare.add_parser(s); p.parse_args(['compare', '--help'])"],
                       capture_output=True, text=True)
    assert r.returncode == 0 and "usage: tokfrag compare" in r.stdout


# --- the continuous flow, for real ----------------------------------------------------

REPO = Path(__file__).resolve().parents[1]
SUBSET = r"Step\.time_preprocess\('pytorch', 'mnist/fragment', 'cpu'\)"


@pytest.mark.slow
@needs("pytorch")
def test_bench_against_previous_commit(tmp_path, mnist):
    """`bench --against HEAD~1` on one cheap combination: REF from a temporary worktree, HEAD from
    the working tree, two alternating rounds merged, results outside results/, exit 0 or 1."""
    if subprocess.run(["git", "rev-parse", "--verify", "--quiet", "HEAD~1"], cwd=REPO).returncode != 0:
        pytest.skip("no HEAD~1 in this checkout")
    work = tmp_path / "work"
    env = dict(os.environ, HOME=str(tmp_path), TOKFRAG_THREADS="1")
    r = subprocess.run([sys.executable, "-m", "tokfrag.continuous", "HEAD~1", "-b", SUBSET, "--rounds", "2",
                        "--machine", "gate-test", "--workdir", str(work)],
                       cwd=REPO, env=env, capture_output=True, text=True, timeout=900)
    out = r.stdout + r.stderr
    assert r.returncode in (0, 1), out[-4000:]
    assert f"[base] asv imports tokfrag from {work / 'ref' / 'tokfrag'}" in out, out[-4000:]
    assert f"[head] asv imports tokfrag from {REPO / 'tokfrag'}" in out
    assert "Step.time_preprocess(pytorch, mnist/fragment, cpu)" in out
    for side in ("base", "head"):
        (path,) = (work / side / "results" / "gate-test").glob("*-*.json")
        combo = compare.read_results(path).combos("bench_pipelines.Step.time_preprocess")[
            ("'pytorch'", "'mnist/fragment'", "'cpu'")]
        assert len(combo.samples) >= 6, combo  # two rounds of at least 3 samples, merged
    assert not (work / "ref").exists()  # the worktree is gone
    assert str(work / "ref") not in subprocess.run(["git", "worktree", "list"], cwd=REPO,
                                                   capture_output=True, text=True).stdout
    assert not (REPO / "results" / "gate-test").exists()  # the committed results/ is untouched


def test_annotations_keep_excluded_speeds_out_of_the_gate(tmp_path):
    """results/annotations.toml's exclusions are listed as excluded, never judged: a 2x slower step of a
    machine whose speeds are excluded does not fail the gate; its accuracy still counts."""
    base = _write(tmp_path, "base", _doc())
    head = _write(tmp_path, "head", _set(_scale_time(_doc(), STEP, 2.0), ACC, 10.0))
    results = head.parents[1]
    (results / "annotations.toml").write_text(
        '[[exclude]]\nmachine = "fixture"\nmetrics = "speed"\nreason = "a test suite shared the cores"\n')
    result = _run(base, head, results_dir=results)
    row = _row(result, STEP)
    assert row.status == "excluded" and "a test suite shared the cores" in row.note
    assert _row(result, ACC).status == "regressed" and result.exit_code == 1
    assert "excluded" in result.table() and "annotations.toml" in result.table()
    (results / "annotations.toml").write_text(
        '[[exclude]]\nmachine = "fixture"\nmetrics = "all"\nreason = "a broken run"\n')
    result = _run(base, head, results_dir=results)
    assert result.exit_code == 0 and result.count("regressed") == 0 and result.count("excluded") >= 2
