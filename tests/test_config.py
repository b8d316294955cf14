"""Configuration in one place (tokfrag/config.py): every TOKFRAG_* variable declared there, read and set
only through it, described in docs/configuration.md and listed by `tokfrag info`; and a partial run
(--dataset, --seeds) adds to what is committed, never narrows it: benchmarks.json's parameter lists and
the data fingerprints of results/<machine>/machine.json."""

from __future__ import annotations

import ast
import copy
import io
import json
import re
import tokenize
from pathlib import Path

import pytest

from tokfrag import cli, config, machine, results

REPO = Path(__file__).resolve().parents[1]
CODE = ("tokfrag", "benchmarks", "gpu", "implementations")
NAME = re.compile(r"TOKFRAG_[A-Z0-9_]*[A-Z0-9]")


def _sources():
    for folder in CODE:
        yield from sorted((REPO / folder).rglob("*.py"))


# --- one module ----------------------------------------------------------------------------

def test_every_variable_named_in_the_code_is_declared_in_config():
    named = {m for path in _sources() for m in NAME.findall(path.read_text())}
    declared = [v.name for v in config.VARIABLES]
    assert len(declared) == len(set(declared))
    assert named <= set(declared), f"not declared in tokfrag/config.py: {sorted(named - set(declared))}"
    for var in config.VARIABLES:
        assert var.meaning and var.default and var.set_by, var.name


def test_no_module_but_config_reads_or_sets_a_variable_by_name():
    """A TOKFRAG_* name as a string of its own ("TOKFRAG_X": an environment key) or as a keyword
    (dict(os.environ, TOKFRAG_X=...)) outside config.py; names inside prose (docstrings, help) are fine."""
    found = []
    for path in _sources():
        text = path.read_text()
        if path == REPO / "tokfrag" / "config.py" or "TOKFRAG_" not in text:
            continue
        for tok in tokenize.generate_tokens(io.StringIO(text).readline):
            text = tok.string
            if tok.type == tokenize.NAME and NAME.fullmatch(text):
                found.append(f"{path.relative_to(REPO)}:{tok.start[0]}: {text}")
            elif tok.type == tokenize.STRING and not text.lstrip("rRbBuU").startswith(("f", "F")):
                try:
                    value = ast.literal_eval(text)
                except (ValueError, SyntaxError):
                    continue
                if isinstance(value, str) and NAME.fullmatch(value.strip()):
                    found.append(f"{path.relative_to(REPO)}:{tok.start[0]}: {text}")
    assert not found, "read or set through tokfrag.config instead:\n" + "\n".join(found)


def test_docs_describe_every_variable():
    doc = (REPO / "docs" / "configuration.md").read_text()
    missing = [v.name for v in config.VARIABLES if f"`{v.name}`" not in doc]
    assert not missing, f"docs/configuration.md does not describe {missing}"


def test_info_lists_every_variable_with_its_value(monkeypatch, capsys):
    for var in config.VARIABLES:
        monkeypatch.delenv(var.name, raising=False)
    monkeypatch.setenv("TOKFRAG_SEEDS", "7")
    assert cli.main(["info"]) == 0
    out = capsys.readouterr().out
    section = out[out.index("environment (TOKFRAG_* variables"):].splitlines()[1:]
    assert [line.split()[0] for line in section] == [v.name for v in config.VARIABLES]
    assert f"  {'TOKFRAG_SEEDS':22s} 7" in section
    assert f"  {'TOKFRAG_THREADS':22s} unset: {config.THREADS.default}" in section


def test_accessors_parse_and_default(monkeypatch, tmp_path):
    for var in config.VARIABLES:
        monkeypatch.delenv(var.name, raising=False)
    assert (config.data_dir(), config.datasets(), config.run_id(), config.seeds(), config.smoke(),
            config.threads(), config.verbose(), config.web_assets(), config.gpu_site(), config.gpu_start()) == \
        (None, [], None, config.DEFAULT_SEEDS, False, None, False, None, None, None)
    with pytest.raises(KeyError, match="TOKFRAG_COMMIT_SHA"):
        config.commit_sha()
    monkeypatch.setenv("TOKFRAG_DATASETS", " fashion, mnist,,fashion ")
    assert config.datasets() == ["fashion", "mnist"]
    assert config.datasets({"TOKFRAG_DATASETS": "text"}) == ["text"]
    monkeypatch.setenv("TOKFRAG_DATA", str(tmp_path))
    monkeypatch.setenv("TOKFRAG_THREADS", "2")
    monkeypatch.setenv("TOKFRAG_SMOKE", "1")
    monkeypatch.setenv("TOKFRAG_COMMIT_DATE_MS", "1700000000000")
    assert (config.data_dir(), config.threads(), config.smoke(), config.commit_date_ms()) == \
        (tmp_path, 2, True, 1700000000000)
    for bad in ("0", "-1", "three"):
        monkeypatch.setenv("TOKFRAG_SEEDS", bad)
        with pytest.raises(ValueError, match="TOKFRAG_SEEDS"):
            config.seeds()
    env = {}
    config.RUN.set("abc", env)
    config.SMOKE.set(1, env)
    assert env == {"TOKFRAG_RUN": "abc", "TOKFRAG_SMOKE": "1"}


# --- a partial run adds: machine.json ---------------------------------------------------------

FINGERPRINTS = {"data_mnist": "m" * 64, "data_video": "v" * 64, "data_text": "t" * 64}


def _asv_machine_json(tmp_path, name: str, extras: dict) -> dict:
    """What `asv run --machine NAME` writes to results/NAME/machine.json after tokfrag annotated the machine
    file with ``extras``, from a fresh home (no ~/.asv-machine.json before): asv's own code."""
    asv_machine = pytest.importorskip("asv.machine")
    path = tmp_path / "home" / ".asv-machine.json"
    path.parent.mkdir(exist_ok=True)
    machine.annotate_asv_machine(name, {"machine": name, "os": "Linux", "arch": "x86_64", "cpu": "c",
                                        "num_cpu": "2", "ram": "1"}, path=str(path))
    machine.annotate_asv_machine(name, extras, path=str(path))
    asv_machine.Machine.load(machine_name=name, _path=str(path)).save(str(tmp_path / "results"))
    return json.loads((tmp_path / "results" / name / "machine.json").read_text())


def test_a_run_of_one_dataset_keeps_the_other_datasets_fingerprints(tmp_path):
    """`tokfrag bench --dataset fashion` on a fresh home rewrote machine.json without data_text and
    data_video; the machine's record keeps them and gains data_fashion."""
    record = tmp_path / "results" / "box" / "machine.json"
    record.parent.mkdir(parents=True)
    record.write_text(json.dumps({"machine": "box", "cpu": "c", "version": 1, **FINGERPRINTS}))
    extras = machine.data_record(tmp_path / "results", "box", {"data_fashion": "f" * 64})
    assert extras == {**FINGERPRINTS, "data_fashion": "f" * 64}
    written = _asv_machine_json(tmp_path, "box", extras)
    assert {k: v for k, v in written.items() if k.startswith("data_")} == {**FINGERPRINTS, "data_fashion": "f" * 64}


def test_a_run_records_its_own_datasets_fingerprints_over_the_recorded_ones(tmp_path):
    record = tmp_path / "results" / "box" / "machine.json"
    record.parent.mkdir(parents=True)
    record.write_text(json.dumps({"machine": "box", **FINGERPRINTS, "cpu": "c"}))
    assert machine.data_record(tmp_path / "results", "box", {"data_mnist": "n" * 64}) == \
        {**FINGERPRINTS, "data_mnist": "n" * 64}
    # no record yet (a new machine), or an unreadable one: this run's fingerprints only
    assert machine.data_record(tmp_path / "results", "new", {"data_mnist": "n" * 64}) == {"data_mnist": "n" * 64}
    record.write_text("{")
    assert machine.data_record(tmp_path / "results", "box", {}) == {}


# --- a partial run adds: benchmarks.json -----------------------------------------------------

def _committed() -> dict:
    return json.loads((REPO / "results" / "benchmarks.json").read_text())


def _as_run(doc: dict, pipelines: list[str] | None = None, seeds: list[str] | None = None) -> dict:
    """benchmarks.json as a run with TOKFRAG_DATASETS / TOKFRAG_SEEDS writes it: the pipeline and seed
    parameters narrowed to the run's."""
    out = copy.deepcopy(doc)
    for entry in out.values():
        if not isinstance(entry, dict):
            continue
        for i, name in enumerate(entry.get("param_names", [])):
            if name == "pipeline" and pipelines is not None:
                entry["params"][i] = pipelines
            if name == "seed" and seeds is not None:
                entry["params"][i] = seeds
    return out


def test_a_partial_run_adds_parameter_values_to_benchmarks_json():
    before = _committed()
    fashion = ["'fashion/fragment'", "'fashion/token'"]
    merged = results.merge_benchmarks(before, _as_run(before, pipelines=fashion, seeds=["0"]))
    assert merged.keys() == before.keys()
    entry = merged["bench_pipelines.Training.track_accuracy"]
    old = before["bench_pipelines.Training.track_accuracy"]
    names = entry["param_names"]
    assert entry["params"][names.index("pipeline")] == old["params"][names.index("pipeline")] + fashion
    assert entry["params"][names.index("seed")] == old["params"][names.index("seed")]
    # the next full run lists the embedded datasets only: fashion stays, where it was
    again = results.merge_benchmarks(merged, before)
    assert again["bench_parity.Parity.track_parity"]["params"] == [old_p + fashion for old_p in
                                                                  before["bench_parity.Parity.track_parity"]["params"]]


def test_a_full_run_leaves_benchmarks_json_as_asv_wrote_it():
    before = _committed()
    assert results.merge_benchmarks(before, before) == before
    gone = dict(before)
    del gone["bench_parity.Parity.track_parity"]  # no longer in the suite: asv discovers every benchmark
    assert results.merge_benchmarks(before, gone) == gone
    reshaped = copy.deepcopy(before)
    reshaped["bench_parity.Parity.track_parity"].update(param_names=["pipeline", "backbone"],
                                                        params=[["'mnist/token'"], ["'cnn'"]])
    assert results.merge_benchmarks(before, reshaped) == reshaped  # other parameters: asv's lists


def test_merged_values_keep_each_value_after_its_neighbour():
    merged = results._merged_values
    assert merged(["a", "b", "c"], ["x"]) == ["a", "b", "c", "x"]
    assert merged(["a", "b", "x"], ["a", "x"]) == ["a", "b", "x"]
    assert merged(["a", "b"], ["b", "a"]) == ["b", "a"]
    assert merged([], ["a"]) == ["a"]


def test_adding_benchmarks_merges_what_the_run_wrote(tmp_path):
    before = _committed()
    path = tmp_path / "benchmarks.json"
    text = json.dumps(before, indent=4, sort_keys=True)
    path.write_text(text)
    with results.adding_benchmarks(tmp_path):
        path.write_text(json.dumps(_as_run(before, pipelines=["'fashion/token'"]), indent=4, sort_keys=True))
    merged = json.loads(path.read_text())
    assert all(v in merged["bench_parity.Parity.track_parity"]["params"][0]
               for v in before["bench_parity.Parity.track_parity"]["params"][0] + ["'fashion/token'"])
    assert path.read_text() == json.dumps(merged, indent=4, sort_keys=True)  # asv's format
    path.write_text(text)
    with results.adding_benchmarks(tmp_path):
        path.write_text(text)  # a full run
    assert path.read_text() == text
    with pytest.raises(RuntimeError):  # a failed run: merged all the same
        with results.adding_benchmarks(tmp_path):
            path.write_text(json.dumps(_as_run(before, seeds=["0"]), indent=4, sort_keys=True))
            raise RuntimeError("asv failed")
    assert json.loads(path.read_text()) == before
