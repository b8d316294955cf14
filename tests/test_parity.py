"""The equivalence checks, for every registered pipeline under every backbone (new pipelines and
backbones are covered automatically)."""

import dataclasses
import json

import pytest

from helpers import needs
from tokfrag import cli, frameworks, parity
from tokfrag.spec import PIPELINES, get_pipeline, registered

both = needs("pytorch", "tensorflow")


def _through(pipeline: str) -> str:
    """Every check, except for the scale grid's width variants: those go through the gradients. Their
    step is the default width's (whose 20-step trajectory is checked), only the shapes change, and the
    structure, forward and gradient checks are what see shapes."""
    return "gradients" if "~" in pipeline else parity.CHECKS[-1]


@both
@pytest.mark.parametrize("pipeline", list(registered()))
def test_every_check_passes(pipeline, mnist):
    through = _through(pipeline)
    rows = parity.check_pipeline(registered()[pipeline], through=through)
    assert [r.check for r in rows] == list(parity.CHECKS[:parity.CHECKS.index(through) + 1])
    failed = [f"{r.check}: {r.max_diff} > {r.tolerance} ({r.detail})" for r in rows if r.status != "pass"]
    assert not failed, failed


@both
def test_wrong_layernorm_epsilon_fails_forward_check(mnist):
    spec = PIPELINES["mnist/fragment"]
    bad = dataclasses.replace(spec, encoder=dataclasses.replace(spec.encoder, norm_eps=1e-1))
    rows = {r.check: r for r in parity.check_pipeline(spec, tf_spec=bad, through="forward tf->pt")}
    assert rows["forward pt->tf"].status == "fail"
    assert rows["forward pt->tf"].max_diff > parity.LOGITS_ATOL
    assert "norm epsilon" in rows["forward pt->tf"].detail
    assert rows["structure"].status == "pass"  # same shapes: only the numbers give it away


@both
def test_transposed_weight_fails_forward_check(mnist, monkeypatch):
    from implementations.tensorflow import model as tf_model

    real = tf_model.load_parameters

    def transposing(model, values):
        values = dict(values)
        values["blocks.0.attn.proj.weight"] = values["blocks.0.attn.proj.weight"].T  # square: loads silently
        real(model, values)

    monkeypatch.setattr(tf_model, "load_parameters", transposing)
    monkeypatch.setattr("implementations.tensorflow.train.load_parameters", transposing)
    rows = {r.check: r for r in parity.check_pipeline(PIPELINES["mnist/token"], through="gradients")}
    assert rows["forward pt->tf"].status == "fail"
    assert rows["gradients"].status == "fail"


@both
@pytest.mark.parametrize("wrong", [("input", "cell", "forget", "output"), ("forget", "input", "cell", "output")])
def test_wrong_lstm_gate_order_fails(mnist, monkeypatch, wrong):
    """The LSTM port maps gate blocks by meaning; a port that gets the order wrong must be caught."""
    frameworks.get("pytorch")  # torch (and the triton it imports) before TensorFlow: the reverse order segfaults
    from implementations.tensorflow import model as tf_model

    monkeypatch.setattr(tf_model, "KERAS_GATES", wrong)
    rows = {r.check: r for r in parity.check_pipeline(get_pipeline("mnist/token+lstm"), through="forward tf->pt")}
    assert list(rows) == list(parity.CHECKS[:5])
    assert rows["structure"].status == "pass"  # the shapes are right: only the numbers give it away
    assert rows["forward pt->tf"].status == "fail" and rows["forward tf->pt"].status == "fail"


def test_missing_framework_is_not_checked_never_pass(monkeypatch):
    real = frameworks.installed
    monkeypatch.setattr(frameworks, "installed", lambda fw: False if fw == "tensorflow" else real(fw))
    report = parity.run(["mnist/token"])
    assert report.rows and all(r.status == "not checked (tensorflow missing)" for r in report.rows)
    assert not report.ok
    assert report.pipelines() == {"mnist/token": "not checked"}


def test_cli_unknown_pipeline_lists_names(capsys):
    assert cli.main(["parity", "mnist/nope"]) == 2
    err = capsys.readouterr().err
    assert "mnist/fragment" in err and "mnist/token" in err


def test_cli_exit_code_and_json(monkeypatch, tmp_path, capsys):
    fake = parity.Report([parity.Row("mnist/token", "structure", "pass", 0.0, "exact"),
                          parity.Row("mnist/token", "gradients", "fail", 1.0, "1e-5")])
    monkeypatch.setattr(parity, "run", lambda names=None, workers=0: fake)
    out = tmp_path / "parity.json"
    assert cli.main(["parity", "--json", str(out)]) == 1
    table = capsys.readouterr().out
    assert "FAIL" in table and "gradients" in table
    doc = json.loads(out.read_text())
    assert doc["pipelines"] == {"mnist/token": "fail"} and len(doc["rows"]) == 2
