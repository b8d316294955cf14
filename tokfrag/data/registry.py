"""The dataset builders by name: one module per dataset under ``tokfrag/data/``."""

from __future__ import annotations

import importlib

from ..errors import DataError

BUILDERS = {
    "mnist": "tokfrag.data.mnist",
    "video": "tokfrag.data.video",
    "text": "tokfrag.data.text",
}


def builder(name: str):
    if name not in BUILDERS:
        raise DataError(f"unknown dataset {name!r}; valid datasets: {', '.join(BUILDERS)}")
    return importlib.import_module(BUILDERS[name])
