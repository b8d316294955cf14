"""A machine's name identifies its hardware: another CPU under the same host name is another machine."""

import json

from tokfrag import machine


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
