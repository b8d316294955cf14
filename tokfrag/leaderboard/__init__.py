"""The static HTML leaderboard: every machine's latest asv results, ranked, in one offline page.

    board = build("results")            # read and validate (warnings name skipped files)
    write(board, "html")                # -> html/leaderboard.html, self-contained
    export.to_csv(board)                # the same table for pandas, every seed's value included
    export.duels_to_csv(board)          # the head-to-head pairs with their 95% intervals and verdicts

``tokfrag publish`` / ``tokfrag serve`` are in ``.cli``; ``.asv_plugin`` rewrites the page
inside every ``asv publish`` (which deletes and rebuilds html_dir). Neither torch nor
tensorflow is imported here.
"""

from __future__ import annotations

from .cli import add_parsers
from .model import Board, LeaderboardError, LeaderboardWarning, build
from .render import FILENAME, page, write

__all__ = ["Board", "FILENAME", "LeaderboardError", "LeaderboardWarning", "add_parsers", "build", "page", "write"]
