"""A machine's name identifies its hardware: another CPU under the same host name is another machine."""

import json
import os
import subprocess
import sys
import warnings
from pathlib import Path

import pytest

from helpers import checkout_copy, needs
from tokfrag import compare, data, machine
from tokfrag.errors import CompareError

REPO = Path(__file__).resolve().parents[1]


def _record(folder, **fields):
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "machine.json").write_text(json.dumps({"machine": folder.name, "version": 1, **fields}))


def _here_as_recorded() -> dict:
    h = machine.hardware_here()
    return {**h, "ram": str(machine.ram_bytes())}


def test_the_host_name_when_nothing_or_the_same_hardware_is_recorded(tmp_path, monkeypatch):
    monkeypatch.setattr(machine.socket, "gethostname", lambda: "vm.example")
    assert machine.machine_name(tmp_path) == "vm"
    _record(tmp_path / "vm", **_here_as_recorded())
    assert machine.machine_name(tmp_path) == "vm"


def test_other_hardware_under_the_same_host_name_gets_a_name_of_its_own(tmp_path, monkeypatch):
    monkeypatch.setattr(machine.socket, "gethostname", lambda: "vm")
    _record(tmp_path / "vm", **{**_here_as_recorded(), "cpu": "Some Other CPU"})
    before = (tmp_path / "vm" / "machine.json").read_text()
    name = machine.machine_name(tmp_path)
    assert name.startswith("vm-") and len(name) == len("vm-") + 6
    assert machine.machine_name(tmp_path) == name  # the same hardware always gets the same name
    assert (tmp_path / "vm" / "machine.json").read_text() == before  # the other machine's record is untouched
    # a record older than tokfrag's cpu_isa field cannot prove it is this machine
    _record(tmp_path / "vm", **{k: v for k, v in _here_as_recorded().items() if k != "cpu_isa"})
    assert machine.machine_name(tmp_path) == name


def test_hardware_differences_name_each_field():
    a = {"cpu": "AMD EPYC", "cpu_isa": "avx2 fma", "num_cpu": "2", "ram": str(24 * 2**30), "gpu": "none"}
    b = {**a, "cpu_isa": "avx2 fma avx512f", "ram": str(24 * 2**30 - 4 * 2**20)}  # RAM: within rounding
    assert machine.hardware_differences(a, b) == ["cpu_isa: avx2 fma vs avx2 fma avx512f"]
    assert machine.hardware_differences(a, {k: v for k, v in a.items() if k != "cpu_isa"}) == \
        ["cpu_isa: avx2 fma vs not recorded"]
    assert machine.hardware_differences(a, {k: v for k, v in a.items() if k != "cpu_isa"}, unrecorded=False) == []


# --- end to end: `tokfrag bench` twice under one host name, on hardware that differs --------------

SUBSET = r"Step\.time_preprocess\('pytorch', 'mnist/fragment', 'cpu'\)"


def test_the_asv_machine_record_holds_the_hardware(tmp_path):
    """asv's `machine --yes` keeps only the fields that differ from its guesses; tokfrag writes them
    all, so that `asv run --machine NAME` copies the hardware into machine.json and every results
    file, whatever the machine file held before."""
    from asv.machine import Machine

    path = tmp_path / "asv-machine.json"
    path.write_text(json.dumps({"version": 1, "box": {"machine": "box", "cpu": "stale", "gpu": "none"}}))
    machine.register_asv_machine("box", path=str(path))
    here = machine.describe()
    entry = json.loads(path.read_text())["box"]
    assert {k: entry[k] for k in machine.ASV_FIELDS} == {k: str(here[k]) for k in machine.ASV_FIELDS}
    assert entry["gpu"] == "none"  # tokfrag's own fields stay
    loaded = Machine.load(machine_name="box", _path=str(path), interactive=True)
    assert (loaded.cpu, loaded.num_cpu, loaded.arch) == (machine.cpu_model(), str(here["num_cpu"]), here["arch"])


@pytest.mark.slow
@needs("pytorch")
def test_bench_twice_under_one_host_name_on_other_hardware(tmp_path, mnist):
    """A first `tokfrag bench` records its hardware under the host name; when that record says
    another CPU (as another VM of the same name would have left it), the next run takes a name of
    its own, leaves the record as it was, the leaderboard shows two machines, and the gate refuses
    to compare them (exit 2); naming the other machine explicitly is refused before anything runs."""
    from tokfrag import cli, leaderboard, results

    if subprocess.run(["git", "rev-parse", "HEAD"], cwd=REPO, capture_output=True).returncode != 0:
        pytest.skip("not a git checkout")
    copy = checkout_copy(tmp_path / "checkout")
    env = dict(os.environ, HOME=str(tmp_path), TOKFRAG_DATA=str(data.cache_root()), TOKFRAG_THREADS="1")
    for var in ("PYTHONPATH", "ASV_PYTHONPATH"):  # the copy's tokfrag, in this process and in asv's
        env[var] = os.pathsep.join([str(copy)] + ([env[var]] if env.get(var) else []))
    bench = [sys.executable, "-m", "tokfrag.cli", "bench", "--smoke", "--seeds", "1", "--dataset", "mnist",
             "-b", SUBSET]

    def run(*extra):
        r = subprocess.run(bench + list(extra), cwd=copy, env=env, capture_output=True, text=True, timeout=900)
        return r.returncode, r.stdout + r.stderr

    host = machine.machine_name()
    rc, out = run()
    assert rc == 0, out[-4000:]
    first = copy / "results" / host
    (first_file,) = first.glob("*-existing-*.json")
    # another machine of the same host name ran first: its record and its results say another CPU
    record = json.loads((first / "machine.json").read_text())
    assert all(record.get(k) for k in machine.ASV_FIELDS), record
    other = {"cpu": "Intel(R) Xeon(R) Processor", "cpu_isa": "avx2 fma avx512f amx_bf16"}
    (first / "machine.json").write_text(json.dumps({**record, **other}, indent=4))
    doc = json.loads(first_file.read_text())
    doc["params"].update(other)
    first_file.write_text(json.dumps(doc))
    before = (first / "machine.json").read_bytes()

    rc, out = run()
    assert rc == 0, out[-4000:]
    second = [p for p in (copy / "results").iterdir() if p.is_dir() and p.name != host]
    assert [p.name for p in second] == [machine.machine_name(copy / "results")], out[-2000:]
    assert second[0].name.startswith(host + "-") and f"results: {second[0]}/" in out
    assert (first / "machine.json").read_bytes() == before  # the other machine's record is untouched
    assert json.loads((second[0] / "machine.json").read_text())["cpu"] == machine.cpu_model()

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        board = leaderboard.build(copy / "results")
    assert set(board.machines) == {host, second[0].name}
    assert board.machines[host].fields.get("cpu") == other["cpu"]
    (second_file,) = second[0].glob("*-existing-*.json")
    assert cli.main(["compare", str(first_file), str(second_file)]) == 2  # two machines: refused
    # the same machine name over different hardware: refused too, saying what differs
    renamed = json.loads(second_file.read_text())
    renamed["params"]["machine"] = host
    (tmp_path / "as-host").mkdir()
    (tmp_path / "as-host" / second_file.name).write_text(json.dumps(renamed))
    with pytest.raises(CompareError, match="different hardware under one machine name.*cpu: Intel"):
        compare.compare(first_file, tmp_path / "as-host" / second_file.name)
    assert results.read_machines(copy / "results")[host]["cpu"] == other["cpu"]

    rc, out = run("--machine", host)  # an explicit name whose record is other hardware: refused, nothing run
    assert rc == 2 and "records other hardware" in out and f"--machine {second[0].name}" in out, out[-2000:]
    assert (first / "machine.json").read_bytes() == before and len(list(first.glob("*-existing-*.json"))) == 1
