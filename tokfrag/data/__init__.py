"""Dataset builders and the prepared-data cache.

Each embedded dataset is one builder module here (``tokfrag/data/<name>.py``, registered in
``registry.py``) and one card (``datasets/<name>.md``). A builder locates and verifies its
source, and returns a Hugging Face ``datasets.DatasetDict``; ``store`` caches it atomically
under ``datasets/cache/``, together with the k-means codebooks of the dataset's token pipelines.
A source of one's own (images, clips, texts) is prepared under a name of its own by ``own``.
"""

from __future__ import annotations

from ..errors import DataError
from .own import KINDS, prepare_source
from .registry import BUILDERS, builder
from .store import Prepared, cache_root, load, prepare, user_meta, user_metas

__all__ = ["BUILDERS", "KINDS", "DataError", "Prepared", "builder", "cache_root", "load", "prepare",
           "prepare_source", "user_meta", "user_metas"]
