"""The checkout tokfrag runs in, and git: where asv.conf.json, datasets/ and results/ live.

Two questions, one answer each:

- :func:`checkout`: the tokfrag checkout (a folder holding ``asv.conf.json``): the one this
  package is imported from (an editable install), else the current directory, else
  ``$ASV_CONF_DIR`` (set by asv in its benchmark processes). ``tokfrag bench``, ``publish``,
  ``serve`` and the data cache use it.
- :func:`working_repo`: the git repository whose commits ``tokfrag compare`` looks up: the
  current directory's, else the checkout this package comes from.

:func:`git` runs a git command and raises :class:`GitError` (a user error) when it fails.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from .errors import GitError, UsageError

PACKAGE_ROOT = Path(__file__).resolve().parents[1]  # the folder holding tokfrag/ (a checkout when editable)
CONFIG = "asv.conf.json"


def checkout() -> Path | None:
    """The tokfrag checkout (see the module docstring), or None when there is none."""
    conf = os.environ.get("ASV_CONF_DIR")
    for candidate in (PACKAGE_ROOT, Path.cwd(), Path(conf) if conf else None):
        if candidate is not None and (candidate / CONFIG).exists():
            return candidate
    return None


def require_checkout() -> Path:
    """:func:`checkout`, or a UsageError saying where to run from."""
    root = checkout()
    if root is None:
        raise UsageError(f"run this from a tokfrag checkout (no {CONFIG} found)")
    return root


def git(cwd: str | Path, *args: str, timeout: float | None = None) -> str:
    """``git ARGS`` in ``cwd``: its stripped output; GitError when it cannot run or fails."""
    try:
        r = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, timeout=timeout)
    except (OSError, subprocess.SubprocessError) as e:
        raise GitError(f"git {' '.join(args)} could not run in {cwd}: {e}") from None
    if r.returncode != 0:
        raise GitError(f"git {' '.join(args)} failed in {cwd}: {r.stderr.strip() or r.stdout.strip()}")
    return r.stdout.strip()


def working_repo() -> Path:
    """The git checkout of the current directory, else the one tokfrag is installed from."""
    try:
        return Path(git(Path.cwd(), "rev-parse", "--show-toplevel", timeout=30))
    except GitError:
        return PACKAGE_ROOT
