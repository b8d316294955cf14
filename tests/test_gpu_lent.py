"""The lent-GPU run's pieces, on a CPU, in seconds: what is carried (gpu/carry.py), the phases' selections of
the asv suite (gpu/run.py), asv without git history (gpu/asv_carried.py) and the device parity check.

The whole rehearsal (a clean Python 3.12 venv with PyTorch, offline, the run end to end) is
`make gpu-rehearsal`: it installs a few GB once, so it is not part of `make test`.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import json
import re
import tarfile
from pathlib import Path

import pytest

from helpers import needs

REPO = Path(__file__).resolve().parents[1]


def load(name: str):
    spec = importlib.util.spec_from_file_location(f"gpu_{name}", REPO / "gpu" / f"{name}.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


carry, run, asv_carried, rehearse = (load(n) for n in ("carry", "run", "asv_carried", "rehearse"))


def test_every_carried_wheel_is_pinned():
    pins = carry.pins()
    unpinned = [n for n in carry.wanted() if carry.normal(n) not in pins and carry.requirement(n, pins) == n]
    assert not unpinned, f"pin these in constraints.txt: {unpinned}"
    assert "asv" in carry.wanted() and "datasets" in carry.wanted()


def test_carried_wheels_need_nothing_that_is_neither_carried_nor_there():
    """Each carried distribution's requirements (for CPython 3.12 on Linux x86-64, no extras), read from the
    same versions installed here: carried too, or held by the lent machines (gpu/carry.THERE). This is the
    check that would have caught importlib_metadata's new need of lazy_importer."""
    gaps = {}
    for name in carry.wanted():
        try:
            dist = importlib.metadata.distribution(name)
        except importlib.metadata.PackageNotFoundError:
            pytest.skip(f"{name} is not installed here")
        missing = carry.gaps(dist.metadata.get_all("Requires-Dist") or [], carry.wanted())
        if missing:
            gaps[name] = missing
    assert not gaps


def test_data_archive_leaves_out_grown_clips_and_runs(tmp_path):
    cache = tmp_path / "cache"
    for d in carry.DATASETS:
        (cache / d / "data").mkdir(parents=True)
        (cache / d / "meta.json").write_text("{}")
        (cache / d / "data" / "x.arrow").write_bytes(b"\0" * 1000)
    (cache / "video" / "extra").mkdir()
    (cache / "video" / "extra" / "grown.arrow").write_bytes(b"1")
    (cache / "runs").mkdir()
    carry.pack_data(cache, tmp_path / "data.tar.gz")
    with tarfile.open(tmp_path / "data.tar.gz") as tar:
        names = tar.getnames()
    assert "video/data/x.arrow" in names and "mnist/meta.json" in names
    assert not [n for n in names if "extra" in n or n.startswith("runs")]


def suite_names(device: str) -> list[str]:
    """The asv names with parameters (as `asv run -b` matches them) of the benchmarks the phases draw on."""
    from benchmarks import bench_devices, bench_perf, bench_pipelines

    out = []
    for mod, cls in ((bench_devices, bench_devices.Parity), (bench_pipelines, bench_pipelines.Step),
                     (bench_pipelines, bench_pipelines.Training), (bench_pipelines, bench_pipelines.DeviceMemory),
                     (bench_perf, bench_perf.Peak), (bench_perf, bench_perf.Modes)):
        combos = [()]
        for axis in cls.params:
            combos = [c + (v,) for c in combos for v in axis]
        for method in (m for m in dir(cls) if m.startswith(("time_", "track_"))):
            for c in combos:
                out.append(f"{mod.__name__.split('.')[-1]}.{cls.__name__}.{method}({', '.join(map(repr, c))})")
    return out


@pytest.mark.parametrize("device", ["gpu", "cpu"])
def test_phases_select_the_pytorch_half_of_the_matrix(device):
    from tokfrag.spec import PIPELINES

    names = suite_names(device)
    pipelines = list(PIPELINES)
    plan = run.phases(device, pipelines)
    assert [p["phase"] for p in plan] == sorted((p["phase"] for p in plan), key=run.PHASES.index)
    picked = {}
    for ph in plan:
        hits = [n for n in names if any(re.search(b, n) for b in ph["bench"])]
        assert hits, ph
        assert all("'tensorflow'" not in n and f"'{'cpu' if device == 'gpu' else 'gpu'}'" not in n for n in hits)
        picked.setdefault(ph["phase"], []).extend(hits)
    assert len(picked["parity"]) == len(pipelines)
    assert len(picked["step"]) == len(pipelines) * 4  # 3 timings and the peak device memory
    assert len(picked["train"]) == len(pipelines) * 5  # one seed, 5 metrics
    perf = picked["perf"]
    assert len(perf) == 2 + 4 * 4  # the peak in 2 precisions; 4 metrics of 2 modes x 2 precisions
    assert all(run.LARGEST in n for n in perf if ".Modes." in n)


def test_largest_pipeline_is_the_one_with_most_flops_per_sample():
    from tokfrag import flops
    from tokfrag.spec import PIPELINES

    assert max(PIPELINES, key=lambda p: flops.train_per_sample(PIPELINES[p])) == run.LARGEST


def test_carried_commit_answers_what_asv_run_asks(monkeypatch):
    pytest.importorskip("asv")
    monkeypatch.setenv("TOKFRAG_COMMIT_SHA", "a" * 40)
    monkeypatch.setenv("TOKFRAG_COMMIT_DATE_MS", "1700000000000")
    repo = asv_carried.carried_repo()
    assert repo.get_hash_from_name("HEAD") == "a" * 40
    assert repo.get_date("a" * 40) == 1700000000000
    assert repo.get_decorated_hash("a" * 40, 8) == "a" * 8
    repo.pull()


def test_commit_falls_back_to_the_carried_record(tmp_path, monkeypatch):
    record = {"sha": "b" * 40, "date_ms": 5, "subject": "x", "dirty": False}
    (tmp_path / "commit.json").write_text(json.dumps(record))
    monkeypatch.setattr(run, "ROOT", tmp_path)  # no git history here
    got = run.commit(tmp_path)
    assert got["sha"] == "b" * 40 and got["from"] == "commit.json"


def test_summary_and_copy_out_keep_this_commits_files(tmp_path):
    folder = tmp_path / "results" / "lent-H100"
    folder.mkdir(parents=True)
    sha = "c" * 40
    doc = {"result_columns": ["result", "params"],
           "results": {"bench_devices.Parity.track_device_parity": [[0, None],
                                                                    [["'mnist/token'"], ["'cpu'", "'gpu'"]]]}}
    (folder / f"{sha[:8]}-existing-py.json").write_text(json.dumps(doc))
    (folder / "machine.json").write_text("{}")
    (folder / "0123abcd-existing-py.json").write_text("{}")  # an earlier commit's, carried with the tree
    assert run.summary(folder, sha) == ["bench_devices.Parity.track_device_parity('mnist/token', 'cpu') = 0"]
    out = tmp_path / "out"
    run.copy_out(folder, out, sha)
    came = sorted(p.name for p in (out / "lent-H100").iterdir())
    assert came == sorted(["machine.json", f"{sha[:8]}-existing-py.json"])


def test_rehearsal_checks_what_came_back(tmp_path):
    assert rehearse.check(tmp_path) == ["$OUT holds 0 machine folders, expected 1"]
    folder = tmp_path / "lent-cpu-rehearsal"
    folder.mkdir()
    (folder / "machine.json").write_text("{}")
    (folder / "gpu-c.log").write_text("")
    results = {n: [0] for n in ("bench_devices.Parity.x", "bench_pipelines.Step.x", "bench_pipelines.Training.x",
                                "bench_perf.Peak.x")}
    (folder / "c-existing-py.json").write_text(json.dumps({"results": results}))
    assert rehearse.check(tmp_path) == ["no result of bench_perf.Modes"]
    assert "torch==2.11.0" in rehearse.lent_requirements()  # the lent machines' PyTorch


@needs("pytorch")
def test_device_parity_on_the_cpu_is_exact(mnist):
    from tokfrag import device_parity
    from tokfrag.spec import get_pipeline

    rows = device_parity.check_pipeline(get_pipeline("mnist/token"), "cpu")
    assert [r.check for r in rows] == [f"{c} cpu vs cpu" for c in device_parity.CHECKS]
    assert all(r.status == "pass" and r.max_diff == 0 for r in rows)


@needs("pytorch")
def test_device_parity_skips_a_missing_gpu_with_its_reason(monkeypatch):
    import torch

    from tokfrag import device_parity

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    out = device_parity.failures(["mnist/token"], ["gpu"])
    assert out["gpu"].startswith("skip: no GPU")
