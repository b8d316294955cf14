"""The seed axis and steady-state timing: seeds from $TOKFRAG_SEEDS, per-seed specs with one
codebook, timed operations warmed to steady state, noisy timings found, the check's verdicts."""

import copy
import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

from helpers import needs
from tokfrag import stats, steady
from tokfrag.data import store
from tokfrag.spec import with_overrides

REPO = Path(__file__).resolve().parents[1]
FIXTURE = next((Path(__file__).parent / "data" / "compare" / "results" / "fixture").glob("*-*.json"))
STEP = "bench_pipelines.Step.time_train_step"


def _common():
    sys.path.insert(0, str(REPO))
    try:
        from benchmarks import common
    finally:
        sys.path.remove(str(REPO))
    return common


def test_seeds_default_to_three_and_follow_the_environment(monkeypatch):
    common = _common()
    monkeypatch.delenv("TOKFRAG_SEEDS", raising=False)
    assert common.seeds() == [0, 1, 2]
    monkeypatch.setenv("TOKFRAG_SEEDS", "5")
    assert common.seeds() == [0, 1, 2, 3, 4]
    for bad in ("0", "-1", "three"):
        monkeypatch.setenv("TOKFRAG_SEEDS", bad)
        with pytest.raises(ValueError, match="TOKFRAG_SEEDS"):
            common.seeds()


def test_a_seed_changes_the_training_run_but_not_the_codebook():
    common = _common()
    base = common.spec_for("mnist/token")
    seeded = common.spec_for("mnist/token", 2)
    assert seeded.train.seed == 2 and base.train.seed == 0
    assert seeded.train == with_overrides(base, seed=2).train  # nothing else changes
    cached = store.Prepared.__new__(store.Prepared)
    cached.path = Path("/cache/mnist")
    assert cached.codebook_path(seeded) == cached.codebook_path(base)  # k-means keeps Codebook.seed


def test_cli_refuses_zero_seeds():
    r = subprocess.run([sys.executable, "-m", "tokfrag.cli", "bench", "--seeds", "0"], capture_output=True, text=True)
    assert r.returncode == 2 and "--seeds 0" in r.stderr


def test_steady_state_waits_for_stable_calls():
    delays = iter([0.05, 0.03, 0.02] + [0.005] * 100)
    times = steady.steady_state(lambda: time.sleep(next(delays)), min_calls=6, min_seconds=0.0, max_seconds=10)
    assert 6 <= len(times) < 20
    assert times[0] > 4 * times[-1]  # the slow first calls were warm-up, the last ones steady


def test_steady_state_gives_up_at_max_seconds():
    grow = iter(0.001 * 2 ** i for i in range(40))  # never steady: each call doubles
    start = time.perf_counter()
    steady.steady_state(lambda: time.sleep(next(grow)), min_seconds=0.0, max_seconds=0.2)
    assert time.perf_counter() - start < 2


@needs("pytorch")
def test_a_timed_operation_warms_up_on_its_first_call_only(mnist):
    common = _common()
    ctx = common.context("pytorch", "mnist/fragment", "cpu", warm_up=False)
    ctx.timed("train_step")
    calls = len(ctx.warm_ups["train_step"])
    assert calls >= 6
    ctx.timed("train_step")
    assert len(ctx.warm_ups["train_step"]) == calls and set(ctx.warm_ups) == {"train_step"}
    with pytest.raises(ValueError, match="unknown operation"):
        ctx.run("backward")


def _with_samples(tmp_path, samples: list[float]) -> Path:
    doc = json.loads(FIXTURE.read_text())
    doc = copy.deepcopy(doc)
    col = {c: i for i, c in enumerate(doc["result_columns"])}
    entry = doc["results"][STEP]
    entry[col["samples"]][0] = samples
    entry[col["result"]][0] = sorted(samples)[len(samples) // 2]
    tmp_path.mkdir(parents=True, exist_ok=True)
    path = tmp_path / FIXTURE.name
    path.write_text(json.dumps(doc))
    (tmp_path / "benchmarks.json").write_text((FIXTURE.parents[1] / "benchmarks.json").read_text())
    return path


def test_noisy_timings_are_found_by_their_spread(tmp_path):
    steady_samples = [0.050, 0.051, 0.049, 0.050, 0.052]
    assert steady.noisy(_with_samples(tmp_path, steady_samples)) == []
    found = steady.noisy(_with_samples(tmp_path, [0.050, 0.080, 0.049, 0.095, 0.052]))
    assert [(name, spread > stats.NOISY) for name, _, spread in found] == [(STEP, True)]
    name, key, _ = found[0]
    regex = steady.selector(name, key)
    assert regex == r"^bench_pipelines\.Step\.time_train_step\('pytorch',\ 'mnist/fragment',\ 'cpu'\)$"


def test_asv_steps_reads_cpu_medians(tmp_path):
    steps = steady.asv_steps(_with_samples(tmp_path, [0.050, 0.051, 0.049]))
    assert steps == {("pytorch", "mnist/fragment"): {"median": 0.050, "spread": pytest.approx(0.02), "samples": 3}}


def test_check_verdicts_name_the_reason():
    calm, busy = {"spread": 0.02}, {"spread": 0.30}
    assert steady.why(calm, calm, 1.05) == "ok" and steady.why(calm, calm, 0.91) == "ok"
    assert "asv's samples spread 30%" in steady.why(busy, calm, 1.6)
    assert "in-process loop spread 30%" in steady.why(calm, busy, 1.6)
    assert "both steady but apart" in steady.why(calm, calm, 1.6)
    assert "still apart when measured back to back" in steady.why(calm, calm, 1.6, back_to_back=True)
    row = {"framework": "tensorflow", "pipeline": "video/fragment", "asv_median": 0.0831, "asv_spread": 0.04,
           "loop_median": 0.0519, "loop_spread": None, "ratio": 1.6, "verdict": "x"}
    line = "tensorflow video/fragment       83.1     4%     51.9      —             —     1.60  x"
    assert line in steady.table([row])
    row.update(loop_fast=0.0502, loop_slow=0.0731)
    assert "51.9      —     50.2-73.1     1.60  x" in steady.table([row])


def test_speeds_finds_a_step_that_switches_between_two():
    one = [0.025] * 80  # 2 s at one speed
    assert steady.speeds(one) == (0.025, 0.025)
    two = [0.025] * 40 + [0.036] * 28 + [0.025] * 40  # a 1-s slow episode inside a 3.7-s window
    fast, slow = steady.speeds(two)
    assert fast == 0.025 and slow == 0.036
    assert steady.speeds([0.3, 0.3, 0.01]) == (0.3, 0.3)  # a short tail joins the run before it


def test_two_speeds_explain_a_gap_only_when_asv_lies_between_them():
    loop = {"spread": 0.02, "fast": 0.025, "slow": 0.036}
    inside, outside = {"spread": 0.02, "median": 0.036}, {"spread": 0.02, "median": 0.050}
    assert steady.why(inside, loop, 1.44).startswith("two speeds: the loop's 0.5-s medians ran from 25.0 to 36.0 ms")
    assert "both steady but apart" in steady.why(outside, loop, 2.0)
    one_speed = {"spread": 0.02, "fast": 0.025, "slow": 0.026}
    assert "both steady but apart" in steady.why(inside, one_speed, 1.44)


def test_the_check_is_stored_where_asv_and_the_leaderboard_do_not_read(tmp_path):
    from tokfrag import results

    path = _with_samples(tmp_path / "results" / "m", [0.05, 0.05, 0.05])
    rows = [{"framework": "pytorch", "pipeline": "mnist/fragment", "verdict": "ok"},
            {"framework": "tensorflow", "pipeline": "mnist/fragment", "verdict": "both steady but apart"}]
    line = steady.write(rows, path)
    out = path.with_name(f"steady-{path.name.split('-')[0]}.jsonl")
    assert line.startswith("steady-state check: 1 of 2 within 10%") and str(out) in line
    assert [json.loads(x) for x in out.read_text().splitlines()] == rows
    found = results.files(tmp_path / "results")
    assert path in found and out not in found  # not *.json: asv and the leaderboard skip it


def test_settle_remeasures_each_apart_combination_back_to_back(tmp_path, monkeypatch):
    path = _with_samples(tmp_path, [0.05, 0.05, 0.05])
    ok = {"framework": "pytorch", "pipeline": "mnist/token", "verdict": "ok"}
    apart = {"framework": "tensorflow", "pipeline": "text/fragment", "verdict": "both steady but apart"}
    calls = []
    monkeypatch.setattr(steady.subprocess, "run", lambda cmd, **kw: calls.append(("asv", cmd[-1])))

    def check(p, only=None, back_to_back=False):
        assert back_to_back
        calls.append(("loop", [(r["framework"], r["pipeline"]) for r in only]))
        return [dict(only[0], verdict="ok")]

    monkeypatch.setattr(steady, "check", check)
    rows = steady.settle([ok, apart], path, ["asv", "run"], log=lambda m: None)
    assert rows == [ok, dict(apart, verdict="ok", remeasured=True)]
    assert calls == [("asv", r"^bench_pipelines\.Step\.time_train_step\('tensorflow',\ 'text/fragment',\ 'cpu'\)$"),
                     ("loop", [("tensorflow", "text/fragment")])]  # asv, then the loop, for that one only
    assert steady.settle([ok], path, ["asv"]) == [ok] and len(calls) == 2  # all ok: nothing re-run


def test_asv_command_targets_the_checked_file(tmp_path):
    path = _with_samples(tmp_path, [0.05, 0.05, 0.05])
    cmd = steady.asv_command(path)
    doc = json.loads(path.read_text())
    assert cmd[1:5] == ["-m", "asv", "run", "--python=same"] and "--record-samples" in cmd
    assert cmd[cmd.index("--set-commit-hash") + 1] == doc["commit_hash"]
    assert cmd[cmd.index("--machine") + 1] == doc["params"]["machine"]
