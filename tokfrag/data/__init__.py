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


def params(names: list[str]) -> dict[str, str]:
    """The asv machine parameters that say which data each dataset name stood for in a run:
    ``data_<name>``, the sha256 fingerprint of its prepared arrays and labels
    (``Prepared.fingerprint``). asv copies them into the results file, and `tokfrag compare`
    refuses to compare results measured on different data."""
    from ..results import DATA_PREFIX

    return {f"{DATA_PREFIX}{name}": load(name).fingerprint for name in names}

__all__ = ["BUILDERS", "KINDS", "DataError", "Prepared", "builder", "cache_root", "load", "prepare",
           "prepare_source", "user_meta", "user_metas"]
