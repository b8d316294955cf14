"""The dataset builders by name: one module per dataset under ``tokfrag/data/``, and the module
that reads each kind of prepared dataset of one's own (``tokfrag.data.own``)."""

from __future__ import annotations

import importlib

from ..errors import DataError

BUILDERS = {
    "mnist": "tokfrag.data.mnist",
    "video": "tokfrag.data.video",
    "text": "tokfrag.data.text",
}
# A prepared dataset of one's own, by its meta.json "kind": the module whose INPUT column and
# to_numpy read it (the embedded dataset of the same kind).
KIND_READERS = {
    "image": "tokfrag.data.mnist",
    "video": "tokfrag.data.video",
    "text": "tokfrag.data.text",
}


def builder(name: str, also: list[str] | None = None):
    if name not in BUILDERS:
        own = f"; prepared datasets of your own: {', '.join(also)}" if also else ""
        raise DataError(f"unknown dataset {name!r}; valid datasets: {', '.join(BUILDERS)}{own} (a dataset of your "
                        "own: tokfrag prepare KIND --source PATH --name NAME)")
    return importlib.import_module(BUILDERS[name])


def reader(kind: str):
    if kind not in KIND_READERS:
        raise DataError(f"unknown kind of prepared data {kind!r}; valid kinds: {', '.join(KIND_READERS)}")
    return importlib.import_module(KIND_READERS[kind])
