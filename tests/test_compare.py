"""`tokfrag compare`: the regression gate's verdicts and exit codes, on a real asv results file.

The fixture (tests/data/compare/, see its README) is a real `asv run --record-samples` of
Step.time_train_step, Step.peakmem_train and Training.track_* for (pytorch, mnist/fragment, cpu),
with TOKFRAG_SMOKE=1. Each test copies it and edits one number on purpose.
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

from conftest import needs
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


def _with_seeds(doc: dict, benchmarks: dict, offsets: list, drop: float) -> tuple[dict, dict]:
    """The fixture with a 4th parameter `seed` on track_accuracy (the suite has none yet):
    the real accuracy plus ``offsets`` for seeds 0..n-1, lowered by ``drop`` points."""
    doc, benchmarks = copy.deepcopy(doc), copy.deepcopy(benchmarks)
    col, entry = _columns(doc), doc["results"][ACC]
    real = entry[col["result"]][COMBO]
    seeds = [str(i) for i in range(len(offsets))]
    n_before = len(entry[col["result"]])
    entry[col["params"]] = entry[col["params"]] + [seeds]
    # the new parameter is the last one: each old combination expands into one value per seed
    values = []
    for i in range(n_before):
        values += [real + o - drop for o in offsets] if i == COMBO else [float("nan")] * len(seeds)
    entry[col["result"]] = values
    benchmarks[ACC]["param_names"] = benchmarks[ACC]["param_names"] + ["seed"]
    benchmarks[ACC]["params"] = entry[col["params"]]
    return doc, benchmarks


def test_accuracy_drop_inside_the_seed_spread_exit_0(tmp_path):
    bench = json.loads((DATA / "benchmarks.json").read_text())
    offsets = [0.0, 2.0, -2.0]  # sd 2.0 -> tolerance max(2 x 2.0, 1.0) = 4.0 points
    base_doc, base_bench = _with_seeds(_doc(), bench, offsets, drop=0.0)
    head_doc, head_bench = _with_seeds(_doc(), bench, offsets, drop=3.0)  # > 1.0 point, < 4.0
    base = _write(tmp_path, "base", base_doc, benchmarks=base_bench)
    head = _write(tmp_path, "head", head_doc, benchmarks=head_bench)
    result = _run(base, head)
    row = _row(result, ACC)
    assert row.status == "unchanged", result.table()
    assert row.params[-1] == "seed=*" and "mean of 3 seeds" in row.note and "4.00 pt" in row.note
    assert result.exit_code == 0
    # the same drop without seed information is a regression (tolerance 1.0 point)
    worse_doc, worse_bench = _with_seeds(_doc(), bench, offsets, drop=5.0)  # beyond the spread too
    head2 = _write(tmp_path, "head2", worse_doc, benchmarks=worse_bench)
    assert _run(base, head2).exit_code == 1


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
