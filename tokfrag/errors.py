"""The one error type for a user's mistake, and how its message reaches a terminal.

``tokfrag.cli.main`` catches :class:`UsageError` (and only it): the message, one line
``tokfrag <command>: error: <message>``, and exit code 2. Any other exception is a bug and
ends in a traceback and exit code 1. Each area raises its own subclass so that callers of
the Python API can tell them apart.
"""

from __future__ import annotations


class UsageError(Exception):
    """A user's mistake: a bad argument, a missing file, nothing to compare (exit code 2)."""


class UnknownName(UsageError, KeyError):
    """An unknown pipeline, framework or dataset name. Still a KeyError for callers of the
    Python API that look names up; its message lists the valid names."""

    def __str__(self) -> str:  # a KeyError's str() would quote the message
        return str(self.args[0]) if self.args else ""


class DataError(UsageError):
    """A source is missing, corrupt or malformed, or a dataset is not prepared."""


class CompareError(UsageError):
    """Two results cannot be compared at all (exit code 2)."""


class LeaderboardError(UsageError):
    """The leaderboard cannot be built: no usable results, or no checkout to find them in."""


class GitError(UsageError):
    """A git command failed (not a checkout, an unknown revision...)."""


def printable(message: str) -> str:
    """``message`` with control characters escaped: text from results files must not drive the terminal."""
    return "".join(c if c.isprintable() or c == "\n" else repr(c)[1:-1] for c in message)
