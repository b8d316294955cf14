"""Dataset builders and the prepared-data cache.

Each dataset is one builder module here (``tokfrag/data/<name>.py``, registered in
``registry.py``) and one card (``datasets/<name>.md``). A builder locates and verifies its
source, and returns a Hugging Face ``datasets.DatasetDict``; ``store`` caches it atomically
under ``datasets/cache/``, together with the k-means codebooks of the dataset's token pipelines.
"""

from __future__ import annotations

from ..errors import DataError
from .registry import BUILDERS, builder
from .store import Prepared, cache_root, load, prepare

__all__ = ["BUILDERS", "DataError", "Prepared", "builder", "cache_root", "load", "prepare"]
