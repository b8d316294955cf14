"""One full training run per combination and benchmark session, shared by several metrics.

asv runs every benchmark in a fresh process, but test accuracy, time to target and the
training throughput all come from the *same* training run. The first benchmark that needs
the run trains and stores its result in ``<cache>/runs/``; the others read it. The key holds
the session: ``$TOKFRAG_RUN`` (set afresh by every ``tokfrag bench``), else the identity of
the asv process that launched this one, so a new session always trains anew.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from pathlib import Path

from . import config
from .spec import PipelineSpec

_MEMO: dict = {}
KEEP_SECONDS = 2 * 24 * 3600


def session() -> str:
    run = config.run_id()
    if run:
        return run
    ppid = os.getppid()
    try:  # the launching process's start time makes the id unique even if its pid is reused
        start = Path(f"/proc/{ppid}/stat").read_text().rsplit(")", 1)[1].split()[19]
    except (OSError, IndexError):
        start = "0"
    return f"asv-{ppid}-{start}"


def _path(what: dict) -> Path:
    from .data import cache_root

    blob = json.dumps({**what, "session": session()}, sort_keys=True, default=str)
    return cache_root() / "runs" / f"{hashlib.sha256(blob.encode()).hexdigest()[:24]}.json"


def cached(what: dict, compute=None):
    """``compute()``, once per benchmark session for the JSON-able description ``what``.

    Without ``compute``, only looks: the stored result, or None if this session has none yet.
    """
    path = _path(what)
    key = path.stem
    if key in _MEMO:
        return _MEMO[key]
    folder = path.parent
    if path.exists():
        out = json.loads(path.read_text())
    elif compute is None:
        return None
    else:
        out = compute()
        folder.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".tmp{os.getpid()}")
        tmp.write_text(json.dumps(out))
        os.replace(tmp, path)
        _prune(folder)
    _MEMO[key] = out
    return out


def result(framework: str, spec: PipelineSpec, device: str = "cpu", mode: str = "default",
           precision: str = "fp32", train: bool = True) -> dict | None:
    """The training result of this combination in this session, training it if needed
    (``train=False``: None instead, without importing any framework)."""
    from . import training

    what = {"spec": spec.to_dict(), "framework": framework, "device": device, "mode": mode, "precision": precision}

    def run():
        from . import curves

        out = training.train(framework, spec, device=device, mode=mode, precision=precision, progress=False)
        curves.session_line(session(), curves.line(out, spec))  # the learning curve, kept (tokfrag.curves)
        return out

    return cached(what, run if train else None)


def workers(framework: str, spec: PipelineSpec, device: str, n: int) -> dict:
    """Step times of ``n`` data-parallel workers on this combination in this session
    (``tokfrag.workers.step_times``, worker 0's), measuring them if needed."""
    from .workers import launch

    job = {"kind": "time", "framework": framework, "pipeline": spec.name, "device": device,
           "seed": spec.train.seed}
    return cached({"workers": n, "spec": spec.to_dict(), "framework": framework, "device": device},
                  lambda: launch(job, n, timeout=900)[0])


def peak(device: str, precision: str) -> dict:
    """The machine's measured matmul peak (FLOP/s) on ``device`` in ``precision``: the best of
    every installed framework's probe, with each probe's figure."""
    from . import frameworks

    def probe():
        out = {}
        for fw in frameworks.FRAMEWORKS:
            try:
                impl = frameworks.get(fw)
                if precision in impl.PRECISIONS:
                    out[fw] = impl.matmul_peak(device, precision)
            except frameworks.Unavailable:
                pass
        if not out:
            raise frameworks.Unavailable(f"no framework can probe {device} in {precision}")
        return {"peak": max(out.values()), "probes": out}

    return cached({"probe": "matmul", "device": device, "precision": precision}, probe)


def _prune(folder: Path) -> None:
    now = time.time()
    for p in folder.glob("*.json"):
        try:
            if now - p.stat().st_mtime > KEEP_SECONDS:
                p.unlink()
        except OSError:
            pass
