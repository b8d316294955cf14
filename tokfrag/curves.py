"""Learning curves kept beside the asv results: one JSON line per training run.

asv holds one number per benchmark and parameter combination (a run's final accuracy); the curve
behind it (test accuracy and loss at each evaluation, with the steps, samples, training seconds and
analytic training FLOPs so far) lives in a side file, as the steady-state check's does:
``results/<machine>/curves-<commit>.jsonl``. How it gets there: every training run of a benchmark
session appends its line to the session's file in the data cache (``session_line``, called by
``tokfrag.runs``), and ``tokfrag bench`` merges that file into the results folder when asv is done
(``collect``), so a run made of several ``-b`` selections adds up in one file per commit. The
leaderboard, the export and ``tokfrag compare`` read them with ``read``.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

PREFIX = "curves-"
# What identifies a run within one commit's file: a later line with the same key replaces the earlier.
KEY = ("framework", "pipeline", "device", "mode", "precision", "workers", "seed")


def line(result: dict, spec) -> dict:
    """The side-file line of one training ``result`` (``tokfrag.training.train_once``) of ``spec``."""
    out = {k: result.get(k) for k in ("framework", "device", "mode", "precision", "workers", "seed", "accuracy",
                                      "train_seconds", "samples_per_second", "time_to_target", "n_train", "steps",
                                      "params", "train_flops", "batch_size", "curve")}
    out.update(pipeline=spec.name, base=spec.base_name, dataset=spec.dataset.name,
               representation=spec.representation, backbone=spec.backbone.name, scale=spec.scale,
               width=spec.encoder.width)
    return out


def _session_path(session: str) -> Path:
    from .data import cache_root

    return cache_root() / "runs" / f"{PREFIX}{session}.jsonl"


def session_line(session: str, record: dict) -> None:
    """Append one run's line to the session's file (one write of one line: concurrent writers interleave
    whole lines)."""
    path = _session_path(session)
    path.parent.mkdir(parents=True, exist_ok=True)
    data = (json.dumps(record, sort_keys=True) + "\n").encode()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    try:
        os.write(fd, data)
    finally:
        os.close(fd)


def _key(rec: dict) -> tuple:
    return tuple(str(rec.get(k)) for k in KEY)


def _read_lines(path: Path) -> list[dict]:
    out = []
    for i, raw in enumerate(path.read_text().splitlines(), 1):
        if not raw.strip():
            continue
        try:
            out.append(json.loads(raw))
        except json.JSONDecodeError as e:
            raise ValueError(f"{path}, line {i}: not a JSON line ({e}); a curves file holds one run per line") from None
    return out


def collect(session: str, folder: Path, commit: str) -> Path | None:
    """Merge the session's curves into ``folder/curves-<commit[:8]>.jsonl`` (a run already there is
    replaced by the session's); None when the session trained nothing. Written atomically."""
    src = _session_path(session)
    if not src.exists():
        return None
    target = folder / f"{PREFIX}{commit[:8]}.jsonl"
    merged = {_key(r): r for r in (_read_lines(target) if target.exists() else [])}
    for r in _read_lines(src):
        merged[_key(r)] = r
    folder.mkdir(parents=True, exist_ok=True)
    tmp = target.with_suffix(f".tmp{os.getpid()}")
    tmp.write_text("".join(json.dumps(r, sort_keys=True) + "\n" for r in sorted(merged.values(), key=_key)))
    os.replace(tmp, target)
    src.unlink()
    return target


def read(results_dir: str | Path) -> list[dict]:
    """Every machine's curves: one dict per run, with ``machine`` and ``commit`` (the file's) added. Of a
    run measured at several commits of one machine, the newest file's line is kept (files ordered by
    their modification time, then name)."""
    root = Path(results_dir)
    out: dict[tuple, dict] = {}
    for path in sorted(root.glob(f"*/{PREFIX}*.jsonl"), key=lambda p: (p.stat().st_mtime, p.name)):
        machine, commit = path.parent.name, path.stem[len(PREFIX):]
        for r in _read_lines(path):
            out[(machine, *_key(r))] = {**r, "machine": machine, "commit": commit}
    return list(out.values())
