"""Head to head: rows that differ in one parameter only, as ``Duel``s (token vs fragment,
TensorFlow vs PyTorch), and the two ``COMPARISONS`` the page, the verdict sentences and the
export name them by."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Callable

from ..names import PipelineName
from .board import Duel, Row
from .defaults import PARAM_DEFAULTS

FRAMEWORK_NAMES = {"pytorch": "PyTorch", "tensorflow": "TensorFlow"}


def row_value(row: Row, param: str) -> str:
    """A row's parameter; ``representation`` is read from the pipeline name."""
    return PipelineName.parse(row.pipeline).representation if param == "representation" else row.params.get(param, "")


def _pairs(rows: list[Row], param: str, a: str, b: str, key, names: tuple[str, str]) -> list[Duel]:
    groups: dict[tuple, dict[str, Row]] = defaultdict(dict)
    for row in rows:
        groups[key(row)][row_value(row, param)] = row
    return [Duel(g[a], g[b], names) for k, g in sorted(groups.items()) if a in g and b in g]


def token_vs_fragment(rows: list[Row]) -> list[Duel]:
    """Token (a) against fragment (b): same dataset, variant, framework, device, machine."""
    def key(row):
        name = PipelineName.parse(row.pipeline)
        others = tuple((k, v) for k, v in row.params.items() if k != "pipeline")
        return (name.dataset, name.variant, name.backbone, name.scale, row.machine, others)
    return _pairs(rows, "representation", "token", "fragment", key, ("token", "fragment"))


def tensorflow_vs_pytorch(rows: list[Row]) -> list[Duel]:
    """TensorFlow (a) against PyTorch (b): same pipeline, device, machine."""
    def key(row):
        return (row.machine, tuple((k, v) for k, v in row.params.items() if k != "framework"))
    return _pairs(rows, "framework", "tensorflow", "pytorch", key, (FRAMEWORK_NAMES["tensorflow"],
                                                                     FRAMEWORK_NAMES["pytorch"]))


def _extras(row: Row, skip: str) -> str:
    """The row's other parameters in words, those at their default (transformer, fp32) left out."""
    return " ".join(v for k, v in row.params.items()
                    if k not in ("device", skip, "pipeline") and PARAM_DEFAULTS.get(k) != v)


def tvf_context(row: Row) -> str:
    """What a token vs fragment pair shares, in words: "PyTorch @article cnn"."""
    variant = PipelineName.parse(row.pipeline).variant
    fw = row.params.get("framework", "")
    return " ".join(p for p in (FRAMEWORK_NAMES.get(fw, fw), f"@{variant}" if variant else "",
                                _extras(row, "framework")) if p)


def fvp_context(row: Row) -> str:
    """What a TensorFlow vs PyTorch pair shares, in words: "fragment cnn"."""
    name = PipelineName.parse(row.pipeline)
    representation, variant = name.representation, name.variant
    return " ".join(p for p in (representation + (f"@{variant}" if variant else ""), _extras(row, "framework")) if p)


@dataclass(frozen=True)
class Comparison:
    """One kind of head to head: how to pair rows and how the page and the sentences name it."""

    key: str  # in the duels export
    title: str
    pairs: Callable[[list[Row]], list[Duel]]
    context: Callable[[Row], str]  # what a pair shares, in words
    context_label: str  # its column header
    short: tuple[str, str]  # a and b in column headers
    prep: str  # "in PyTorch", "for fragment"
    noun: str  # what the pairs of one machine and device differ by, plural


TOKEN_VS_FRAGMENT = Comparison("token_vs_fragment", "Token vs fragment", token_vs_fragment, tvf_context,
                               "Framework", ("token", "fragment"), "in", "frameworks")
TENSORFLOW_VS_PYTORCH = Comparison("tensorflow_vs_pytorch", "TensorFlow vs PyTorch", tensorflow_vs_pytorch,
                                   fvp_context, "Pipeline", ("TF", "PT"), "for", "pipelines")
COMPARISONS = (TOKEN_VS_FRAGMENT, TENSORFLOW_VS_PYTORCH)
