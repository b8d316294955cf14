"""Head to head: rows that differ in one parameter only, as ``Duel``s (token vs fragment,
TensorFlow vs PyTorch)."""

from __future__ import annotations

from collections import defaultdict

from .board import Duel, Row


def split_pipeline(name: str) -> tuple[str, str, str]:
    """``mnist/token@article`` -> ("mnist", "token", "article")."""
    dataset, _, rest = name.partition("/")
    representation, _, variant = rest.partition("@")
    return dataset, representation, variant


def row_value(row: Row, param: str) -> str:
    """A row's parameter; ``representation`` is read from the pipeline name."""
    return split_pipeline(row.pipeline)[1] if param == "representation" else row.params.get(param, "")


def _pairs(rows: list[Row], param: str, a: str, b: str, key) -> list[Duel]:
    groups: dict[tuple, dict[str, Row]] = defaultdict(dict)
    for row in rows:
        groups[key(row)][row_value(row, param)] = row
    return [Duel(g[a], g[b]) for k, g in sorted(groups.items()) if a in g and b in g]


def token_vs_fragment(rows: list[Row]) -> list[Duel]:
    """Token (a) against fragment (b): same dataset, variant, framework, device, machine."""
    def key(row):
        dataset, _, variant = split_pipeline(row.pipeline)
        others = tuple((k, v) for k, v in row.params.items() if k != "pipeline")
        return (dataset, variant, row.machine, others)
    return _pairs(rows, "representation", "token", "fragment", key)


def tensorflow_vs_pytorch(rows: list[Row]) -> list[Duel]:
    """TensorFlow (a) against PyTorch (b): same pipeline, device, machine."""
    def key(row):
        return (row.machine, tuple((k, v) for k, v in row.params.items() if k != "framework"))
    return _pairs(rows, "framework", "tensorflow", "pytorch", key)
