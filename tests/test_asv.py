"""asv discovers the suite, and a quick smoke run records CPU results and skips the GPU."""

import json
import os
import shutil
import subprocess
import sys
import warnings
from pathlib import Path

import pytest
from asv.util import load_json

from helpers import needs, results_frame
from tokfrag import data, leaderboard, results
from tokfrag.leaderboard import offline

REPO = Path(__file__).resolve().parents[1]


def _asv_env(tmp_path, seeds: int = 2):
    """Smoke budget, 2 training seeds (the seed axis without the default run's 3x cost)."""
    return dict(os.environ, HOME=str(tmp_path), TOKFRAG_SMOKE="1", TOKFRAG_RUN=f"test-{os.getpid()}",
                TOKFRAG_SEEDS=str(seeds))


def _config(tmp_path) -> Path:
    conf = load_json(str(REPO / "asv.conf.json"), js_comments=True)
    conf.update(repo=str(REPO), benchmark_dir=str(REPO / "benchmarks"), results_dir=str(tmp_path / "results"),
                html_dir=str(tmp_path / "html"), env_dir=str(tmp_path / "env"))
    path = tmp_path / "asv.conf.json"
    path.write_text(json.dumps(conf))
    return path


def test_asv_check_discovers_the_suite(tmp_path):
    r = subprocess.run([sys.executable, "-m", "asv", "check", "--python=same", "--config", str(_config(tmp_path))],
                       cwd=REPO, capture_output=True, text=True, env=_asv_env(tmp_path), timeout=600)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]


@pytest.mark.slow
@needs("pytorch", "tensorflow")
def test_quick_smoke_run_on_mnist(tmp_path, mnist):
    sha = subprocess.run(["git", "rev-parse", "HEAD"], cwd=REPO, capture_output=True, text=True)
    if sha.returncode != 0:
        pytest.skip("not a git checkout with a commit")
    env = _asv_env(tmp_path)
    conf = _config(tmp_path)
    subprocess.run([sys.executable, "-m", "asv", "machine", "--yes", "--machine", "smoke", "--config", str(conf)],
                   cwd=REPO, env=env, check=True, capture_output=True)
    r = subprocess.run(
        [sys.executable, "-m", "asv", "run", "--python=same", "--quick", "--set-commit-hash", sha.stdout.strip(),
         "--machine", "smoke", "--config", str(conf), "--show-stderr",
         "-b", r"^bench_pipelines\.Training\.track_accuracy\(.*'mnist/", "-b", r"Step\.time_train_step\(.*'mnist/"],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=1200)
    assert r.returncode == 0, r.stdout[-4000:] + r.stderr[-4000:]
    df = results_frame(tmp_path / "results")
    assert not df.empty
    for bench, n in (("bench_pipelines.Training.track_accuracy", 16), ("bench_pipelines.Step.time_train_step", 8)):
        rows = df[(df.benchmark == bench) & df.params.map(lambda p: p[1].startswith("mnist/"))]
        assert len(rows) == n, rows  # 2 frameworks x 2 MNIST pipelines x 2 devices (x 2 seeds for training)
        cpu = rows[rows.params.map(lambda p: p[2] == "cpu")]
        gpu = rows[rows.params.map(lambda p: p[2] == "gpu")]
        assert (cpu.status == "ok").all(), cpu
        if shutil.which("nvidia-smi") is None:
            assert (gpu.status == "skipped").all(), gpu
    acc = df[(df.benchmark == "bench_pipelines.Training.track_accuracy") & (df.status == "ok")]
    assert len(acc) == 8 and sorted(set(acc.params.map(lambda p: p[3]))) == ["0", "1"]  # one run per seed
    assert ((acc.value > 10) & (acc.value <= 100)).all(), acc  # one epoch already beats chance (10%)
    by_seed = acc.groupby(acc.params.map(lambda p: p[:3])).value.agg(lambda v: len(set(v)))
    assert (by_seed == 2).all(), by_seed  # another seed, another run: the two accuracies differ


@needs("pytorch")
def test_context_warms_up_only_when_asked(mnist):
    """Step (CPU) leaves warming up to asv's warmup_time; Modes measures the first, compiling step."""
    sys.path.insert(0, str(REPO))
    try:
        from benchmarks import common
    finally:
        sys.path.remove(str(REPO))
    cold = common.context("pytorch", "mnist/fragment", "cpu", warm_up=False)
    assert cold.first_step_seconds is None and cold.batch_size == 64
    warm = common.context("pytorch", "mnist/fragment", "cpu")
    assert warm is not cold and warm.first_step_seconds > 0
    assert common.context("pytorch", "mnist/fragment", "cpu", warm_up=False) is cold  # cached per process
    loss = cold.trainer.sync(cold.trainer.train_step(cold.x, cold.y, cold.lr))
    assert 0 < loss < 10


def test_config_is_what_asv_users_expect():
    """The settings plain `asv run` over commits depends on, in the file rather than on command lines."""
    conf = load_json(str(REPO / "asv.conf.json"), js_comments=True)
    assert conf["environment_type"] == "virtualenv" and conf["launch_method"] == "spawn"
    build = " ".join(conf["build_command"])
    assert "--no-deps" in build and "{build_cache_dir}" in build  # only tokfrag's wheel in the build cache
    install = " ".join(conf["install_command"])
    assert "-c {build_dir}/constraints.txt" in install and "[pytorch,tensorflow]" in install
    assert conf["install_timeout"] >= 1800
    import tomllib

    requires = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["requires-python"]
    assert conf["pythons"] == ["3.11"] and requires == ">=3.11,<3.13"  # 3.12: the lent GPU machines (gpu/)
    assert not any("example" in str(v) or "invalid" in str(v) for v in conf.values())  # no placeholder URLs


# Benchmarks whose measurement changed on purpose, so that asv rightly stopped showing older values.
REMEASURED = {
    "bench_perf.Modes.time_train_step": "steady-state timing (Context.timed) since 4ba938a",
    "bench_perf.Scaling.time_train_step": "steady-state timing (Context.timed) since 4ba938a",
}


def _discovered_versions() -> dict[str, str]:
    """{benchmark: version} as asv discovers the suite now (in a child: discovery imports the suite)."""
    code = ("import io, json, sys; from asv_runner.discovery import list_benchmarks; f = io.StringIO(); "
            "list_benchmarks('benchmarks', f); print(f.getvalue())")
    r = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=600,
                       env=dict(os.environ, PYTHONPATH=str(REPO)))
    assert r.returncode == 0, r.stderr[-3000:]
    text = r.stdout.strip()
    found = json.loads(text) if text.startswith("[") else [json.loads(line) for line in text.splitlines() if line]
    return {b["name"]: b["version"] for b in found}


def test_committed_benchmarks_json_records_the_suites_versions():
    """A code change that changes a benchmark's asv version shows up here before it hides any history."""
    committed = json.loads((REPO / "results" / "benchmarks.json").read_text())
    committed.pop("version")  # the file format's
    discovered = _discovered_versions()
    assert len(discovered) > 10 and set(discovered) <= set(committed)
    changed = {n: (committed[n]["version"][:10], v[:10]) for n, v in discovered.items() if committed[n]["version"] != v}
    assert not changed, (f"versions differ from results/benchmarks.json (committed, now): {changed}; a refactor: "
                         "set the class's `version` to the committed one; a new measurement: commit results of "
                         "it with the benchmarks.json `tokfrag bench` writes (and REMEASURED below)")


def test_every_committed_measurement_stays_on_asvs_graphs():
    """asv drops a recorded value whose version differs from the suite's; a refactor must not drop a
    benchmark's whole history (set the class's `version` instead), only a change of what it measures
    (listed in REMEASURED)."""
    suite = json.loads((REPO / "results" / "benchmarks.json").read_text())
    current = {n: b["version"] for n, b in suite.items() if isinstance(b, dict)}  # beside them: "version": 2
    recorded: dict[str, set] = {}
    for path in sorted((REPO / "results").glob("*/*.json")):
        if path.name == "machine.json":
            continue
        doc = json.loads(path.read_text())
        at = doc["result_columns"].index("version")
        for name, row in doc["results"].items():
            recorded.setdefault(name, set()).add(row[at])
    hidden = sorted(n for n, versions in recorded.items()
                    if n in current and current[n] not in versions and n not in REMEASURED)
    assert recorded and not hidden, f"every committed value of these is hidden from asv's graphs: {hidden}"
    assert all(n in recorded for n in REMEASURED)


@pytest.mark.slow
def test_plain_asv_run_over_a_commit_in_a_managed_virtualenv(tmp_path, mnist, request):
    """What asv users type: `asv run HEAD^!` builds tokfrag's wheel, installs it with the frameworks into a
    virtualenv of asv's own, runs one benchmark there and writes its result; `asv publish` then shows it on
    the leaderboard and leaves asv's pages loading only local files.

    Costs about 3 minutes on 2 cores with a warm pip cache (the virtualenv install of PyTorch and
    TensorFlow dominates); the real asv.conf.json is used, only its output folders are redirected.
    """
    sha = subprocess.run(["git", "rev-parse", "HEAD"], cwd=REPO, capture_output=True, text=True)
    if sha.returncode != 0:
        pytest.skip("not a git checkout with a commit")
    sha = sha.stdout.strip()
    pip_cache = subprocess.run([sys.executable, "-m", "pip", "cache", "dir"], capture_output=True, text=True)
    env = _asv_env(tmp_path)  # HOME=tmp_path: the machine file is this test's own
    env["TOKFRAG_DATA"] = str(data.cache_root())  # the prepared data (asv's env has its own tokfrag install)
    if pip_cache.returncode == 0 and pip_cache.stdout.strip():
        env["PIP_CACHE_DIR"] = pip_cache.stdout.strip()  # the wheels `make setup` already fetched
    conf = _config(tmp_path)
    asv = [sys.executable, "-m", "asv"]
    request.addfinalizer(lambda: shutil.rmtree(tmp_path / "env", ignore_errors=True))  # ~5 GB: PyTorch, TF
    subprocess.run(asv + ["machine", "--yes", "--machine", "managed", "--config", str(conf)],
                   cwd=REPO, env=env, check=True, capture_output=True)
    r = subprocess.run(asv + ["run", "--quick", "--show-stderr", "--machine", "managed", "--config", str(conf),
                              "-b", r"Step\.time_train_step\('pytorch', 'mnist/fragment', 'cpu'\)", f"{sha}^!"],
                       cwd=REPO, env=env, capture_output=True, text=True, timeout=2400)
    out = r.stdout[-6000:] + r.stderr[-3000:]
    assert r.returncode == 0, out
    assert "Found multiple wheels" not in out and f"Installing {sha[:8]}" in out, out
    files = list((tmp_path / "results" / "managed").glob(f"{sha[:8]}-virtualenv-py3.11*.json"))
    assert len(files) == 1, (sorted((tmp_path / "results").rglob("*")), out)
    step = [r for r in results.read_file(files[0])
            if r["benchmark"] == "bench_pipelines.Step.time_train_step" and r["status"] == "ok"]
    assert len(step) == 1 and 0 < step[0]["value"] < 60, step
    assert step[0]["params"][:3] == ("pytorch", "mnist/fragment", "cpu")

    r = subprocess.run(asv + ["publish", "--config", str(conf)], cwd=REPO, env=env, capture_output=True,
                       text=True, timeout=600)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    html = tmp_path / "html"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        board = leaderboard.build(tmp_path / "results")
    shown = [row for row in board.rows if row.machine == "managed" and row.value("train_step") is not None]
    assert [(row.pipeline, row.params["framework"]) for row in shown] == [("mnist/fragment", "pytorch")]
    assert shown[0].value("train_step") == pytest.approx(step[0]["value"])
    assert "managed" in (html / "leaderboard.html").read_text()
    assert not offline.network_urls((html / "index.html").read_text())
