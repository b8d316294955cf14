"""Dataset builders and the prepared-data cache.

Each dataset is one builder module here (``tokfrag/data/<name>.py``) and one card
(``datasets/<name>.md``). A builder locates and verifies its source, and returns a Hugging
Face ``datasets.DatasetDict``; ``store`` caches it atomically under ``datasets/cache/``,
together with the k-means codebooks of the dataset's token pipelines.
"""

from __future__ import annotations

import importlib

BUILDERS = {
    "mnist": "tokfrag.data.mnist",
    "video": "tokfrag.data.video",
    "text": "tokfrag.data.text",
}


class DataError(RuntimeError):
    """A source is missing, corrupt or malformed, or a dataset is not prepared."""


def builder(name: str):
    if name not in BUILDERS:
        raise DataError(f"unknown dataset {name!r}; valid datasets: {', '.join(BUILDERS)}")
    return importlib.import_module(BUILDERS[name])


from .store import Prepared, cache_root, load, prepare  # noqa: E402  (needs DataError)

__all__ = ["BUILDERS", "DataError", "Prepared", "builder", "cache_root", "load", "prepare"]
