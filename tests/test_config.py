"""Configuration in one place (tokfrag/config.py): every TOKFRAG_* variable declared there, read and set
only through it, described in docs/configuration.md and listed by `tokfrag info`."""

from __future__ import annotations

import ast
import io
import re
import tokenize
from pathlib import Path

import pytest

from tokfrag import cli, config

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
