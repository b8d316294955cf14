"""Every pipeline by name: the spec's, and those of each prepared dataset of one's own.

``tokfrag.spec`` holds every hyperparameter and the embedded datasets' pipelines; it reads no
file. A dataset of one's own (``tokfrag prepare KIND --source PATH --name NAME``) has its
pipelines derived, at lookup time, from its meta.json in the data cache
(``tokfrag.spec.user_pipelines``): ``NAME/fragment``, ``NAME/token``, and each under any
backbone (``NAME/token+cnn``). What looks pipelines up by name (the command line, parity, the
asv suite, the leaderboard) asks here.
"""

from __future__ import annotations

from . import spec
from .data.store import user_meta, user_metas
from .errors import UnknownName


def user_pipelines(dataset: str) -> dict[str, spec.PipelineSpec]:
    """The pipelines of prepared dataset ``dataset`` of one's own ({} when there is none)."""
    meta = user_meta(dataset)
    return spec.user_pipelines(meta) if meta is not None else {}


def get_pipeline(name: str) -> spec.PipelineSpec:
    """``spec.get_pipeline``, also for the pipelines of a prepared dataset of one's own."""
    dataset = name.partition("/")[0]
    more = {} if dataset in spec.EMBEDDED else user_pipelines(dataset)
    try:
        return spec.get_pipeline(name, more)
    except UnknownName:
        if dataset in spec.EMBEDDED or more or "/" not in name:
            raise
        raise UnknownName(f"unknown pipeline {name!r}: no dataset {dataset!r} is prepared (embedded: "
                          f"{', '.join(spec.datasets())}; of your own: {', '.join(user_metas()) or 'none'}).\n"
                          f"Fix: tokfrag prepare KIND --source PATH --name {dataset}") from None


def datasets() -> list[str]:
    """The embedded datasets, then every prepared dataset of one's own."""
    return spec.datasets() + list(user_metas())


def pipelines_of(dataset: str) -> list[str]:
    """The default pipelines of ``dataset`` (embedded or one's own); UnknownName if there is none."""
    if dataset in spec.EMBEDDED:
        return [n for n, p in spec.PIPELINES.items() if p.dataset.name == dataset]
    names = list(user_pipelines(dataset))
    if not names:
        raise UnknownName(f"unknown dataset {dataset!r}; embedded: {', '.join(spec.datasets())}; prepared of your "
                          f"own: {', '.join(user_metas()) or 'none'}.\n"
                          f"Fix: tokfrag prepare KIND --source PATH --name {dataset}")
    return names
