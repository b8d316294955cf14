"""Finding the two results files: BASE and HEAD as a file, a folder or a git revision."""

from __future__ import annotations

import json
import re
from pathlib import Path

from ..errors import CompareError, GitError
from ..repo import git
from ..results import SCHEMA_VERSION, NotResults, ResultsFile, benchmarks_near


def read_results(path: str | Path) -> ResultsFile:
    """One results file with its benchmarks.json entries (``meta``); CompareError when it is not one."""
    path = Path(path)
    try:
        results = ResultsFile.read(path)
    except NotResults as e:
        if e.error is not None:
            raise CompareError(f"{path}: cannot read it as JSON ({e.error}); expected an asv results file") from e
        raise CompareError(f"{path}: not an asv results file of version {SCHEMA_VERSION} "
                           f"(found version {e.version}); "
                           "pass a results/<machine>/<commit>-<env>.json file written by asv 0.6") from e
    results.meta = benchmarks_near(path)
    return results


def _is_results_file(p: Path) -> bool:
    return p.suffix == ".json" and p.name not in ("machine.json", "benchmarks.json")


def resolve(spec: str, results_dir: Path, repo: Path, machine: str | None = None) -> list[Path]:
    """BASE or HEAD -> candidate results files: a file, a folder, or a commit (any git revision)."""
    p = Path(spec)
    if p.is_file():
        return [p]
    if p.is_dir():
        files = sorted(f for f in p.glob("*.json") if _is_results_file(f))
        if not files:  # a results_dir: one folder per machine
            files = sorted(f for f in p.glob(f"{machine or '*'}/*.json") if _is_results_file(f))
        if not files:
            raise CompareError(f"{p}: no asv results files in this folder or in {p}/<machine>/; "
                               "expected <commit>-<env>.json files written by asv run")
        return files
    try:
        sha = git(repo, "rev-parse", "--verify", "--quiet", f"{spec}^{{commit}}", timeout=30)
    except GitError:
        sha = None
    prefix = sha or (spec.lower() if re.fullmatch(r"[0-9a-fA-F]{4,40}", spec) else None)
    if prefix is None:
        raise CompareError(f"{spec!r} is neither a results file, a results folder, nor a git revision of {repo}")
    # asv names a file by the commit's first 8 hex digits; its commit_hash field holds all 40
    files = sorted(f for f in results_dir.glob(f"{machine or '*'}/{prefix[:8]}*-*.json")
                   if _is_results_file(f) and _commit_of(f).startswith(prefix))
    if not files:
        raise CompareError(f"no results for {spec} ({prefix[:12]}) in {results_dir / (machine or '*')}/: run "
                           f"`tokfrag bench` on that commit first, pass a results file, or benchmark both "
                           f"sides now with `tokfrag bench --against {spec}`")
    return files


def _commit_of(path: Path) -> str:
    try:
        return str(json.loads(path.read_text()).get("commit_hash", ""))
    except (OSError, ValueError):
        return path.name.split("-", 1)[0]


def pick_pair(base_files: list[Path], head_files: list[Path]) -> tuple[ResultsFile, ResultsFile]:
    """One file per side; with several candidates, the one machine and environment both share."""
    base = [read_results(f) for f in base_files]
    head = [read_results(f) for f in head_files]
    if len(base) == 1 and len(head) == 1:
        return base[0], head[0]
    common = {(b.machine, b.env) for b in base} & {(h.machine, h.env) for h in head}
    if len(common) == 1:
        key = common.pop()
        b = [r for r in base if (r.machine, r.env) == key]
        h = [r for r in head if (r.machine, r.env) == key]
        if len(b) == 1 and len(h) == 1:
            return b[0], h[0]
    listing = "\n".join(f"  {side}: {r.machine} / {r.env} / {r.commit[:8]}  {r.path}"
                        for side, rs in (("base", base), ("head", head)) for r in rs)
    raise CompareError("cannot pick one results file per side; candidates (machine / environment / commit):\n"
                       f"{listing}\npass --machine NAME, or the two files themselves")
