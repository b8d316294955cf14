"""``tokfrag publish`` and ``tokfrag serve``: build the leaderboard, and look at it locally."""

from __future__ import annotations

import functools
import http.server
import json
import subprocess
import sys
import tempfile
import warnings
from pathlib import Path

from ..errors import LeaderboardError, UsageError, printable
from ..repo import require_checkout
from . import export, writeup
from .model import build
from .render import FILENAME, write

FORMATS = ("html", "csv", "json", "duels-csv", "duels-json", "curves-json", "scale-md")
EXPORTS = {"csv": export.to_csv, "json": export.to_json, "duels-csv": export.duels_to_csv,
           "duels-json": export.duels_to_json, "curves-json": export.curves_to_json,
           "scale-md": lambda board: writeup.scale_doc(board)}


def _warn(command: str, message: str) -> None:
    print(f"tokfrag {command}: warning: {printable(message)}", file=sys.stderr)


def _asv_conf() -> tuple[Path, dict]:
    """The checkout's root (as `tokfrag bench` finds it) and its asv.conf.json."""
    from asv.util import UserError, load_json

    try:
        repo = require_checkout()
        return repo, load_json(str(repo / "asv.conf.json"), js_comments=True)
    except (UsageError, UserError, OSError, ValueError) as e:
        raise LeaderboardError(str(e)) from None


def _run_asv_publish(repo: Path, conf: dict, results_dir: Path, html_dir: Path) -> int:
    cmd = [sys.executable, "-m", "asv", "publish", "--html-dir", str(html_dir)]
    with tempfile.TemporaryDirectory() as tmp:
        if results_dir.resolve() != (repo / conf.get("results_dir", "results")).resolve():
            # asv reads results_dir from its configuration only: hand it a copy that points elsewhere
            path = Path(tmp) / "asv.conf.json"
            path.write_text(json.dumps(dict(conf, repo=str(repo), results_dir=str(results_dir.resolve()),
                                            benchmark_dir=str(repo / conf.get("benchmark_dir", "benchmarks")))))
            cmd += ["--config", str(path)]
        print("running:", " ".join(cmd), flush=True)
        return subprocess.run(cmd, cwd=repo).returncode


def cmd_publish(args) -> int:
    if args.output and args.format == "html":
        raise UsageError("--output is for the exports (--format csv, json, duels-*, curves-json, scale-md); the page "
                         "goes to --html DIR")
    try:
        repo, conf = (None, {}) if args.results and args.html and args.no_asv else _asv_conf()
    except LeaderboardError as e:
        raise LeaderboardError(f"{e} (or pass --results DIR --html DIR --no-asv)") from None
    results_dir = Path(args.results) if args.results else repo / conf.get("results_dir", "results")
    html_dir = Path(args.html) if args.html else repo / conf.get("html_dir", "html")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            board = build(results_dir)
        except LeaderboardError as e:
            board, error = None, str(e)
    for w in caught:
        _warn("publish", str(w.message))
    if board is None:
        raise LeaderboardError(error)
    if args.format != "html":
        text = EXPORTS[args.format](board)
        if args.output:
            Path(args.output).write_text(text)
            print(f"wrote {args.output}", file=sys.stderr)
        else:
            sys.stdout.write(text)
        return 0
    rc = 0 if args.no_asv else _run_asv_publish(repo, conf, results_dir, html_dir)
    if rc:  # not a user's mistake, and not fatal: reported, and the exit code says it
        print(f"tokfrag publish: error: asv publish failed (exit {rc}); writing the leaderboard anyway",
              file=sys.stderr)
    path = write(board, html_dir)
    print(f"leaderboard: {path.resolve()}\nview it: tokfrag serve  (or open the file in a browser)")
    if args.docs:
        if repo is None:
            repo, _ = _asv_conf()
        for written in writeup.write_docs(board, repo / "docs", repo / "README.md"):
            print(f"wrote {written}")
    return rc


def cmd_serve(args) -> int:
    if args.html:
        html_dir = Path(args.html)
    else:
        try:
            repo, conf = _asv_conf()
        except LeaderboardError as e:
            raise LeaderboardError(f"{e} (or pass --html DIR)") from None
        html_dir = repo / conf.get("html_dir", "html")
    if not (html_dir / FILENAME).is_file():
        raise UsageError(f"{html_dir / FILENAME} not found: run `tokfrag publish` first")
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(html_dir))
    try:
        server = http.server.ThreadingHTTPServer(("127.0.0.1", args.port), handler)
    except OSError as e:
        raise UsageError(f"cannot listen on 127.0.0.1:{args.port} ({e.strerror or e}); try --port N") from None
    port = server.server_address[1]
    print(f"serving {html_dir.resolve()} bound to 127.0.0.1 only (not reachable from other machines)")
    print(f"open http://127.0.0.1:{port}/{FILENAME}   (asv's graphs: http://127.0.0.1:{port}/)  Ctrl-C stops",
          flush=True)
    with server:
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            pass
    return 0


def add_parsers(sub) -> None:
    """Register ``publish`` and ``serve`` on the ``tokfrag`` sub-command parsers."""
    s = sub.add_parser(
        "publish", help="build the HTML leaderboard (and asv's pages) from every machine's results",
        description="Run `asv publish` (asv's graphs into html/), then write html/leaderboard.html: one "
                    "ranked table per dataset from every machine under results/ (each result from the "
                    "latest commit that measured it), "
                    "with head-to-head summaries, an accuracy vs training time plot and each machine's "
                    "context. The page is self-contained (no network needed). Malformed or implausible "
                    "results are skipped with a warning naming the file. With --format csv|json, print "
                    "the same table instead (for pandas), every seed's value included; with "
                    "--format duels-csv|duels-json, the head-to-head pairs with their 95% intervals "
                    "and verdicts; with --format curves-json, every run's learning curve (the scale grid's "
                    "and any other training run's); with --format scale-md, the scale grid's findings.",
        epilog="Examples: tokfrag publish; tokfrag publish --format csv --output board.csv, then in "
               "Python: pandas.read_csv('board.csv').")
    s.add_argument("--results", metavar="DIR", help="asv results folder (default: results_dir of asv.conf.json)")
    s.add_argument("--html", metavar="DIR", help="output folder (default: html_dir of asv.conf.json)")
    s.add_argument("--format", choices=FORMATS, default="html",
                   help="html: the page (default); csv or json: the table; duels-csv or duels-json: the "
                        "head-to-head pairs with intervals and verdicts; curves-json: every run's learning curve; "
                        "scale-md: the verdict at every scale, as Markdown (to --output or stdout)")
    s.add_argument("--output", metavar="FILE", help="csv/json exports: write to FILE instead of stdout")
    s.add_argument("--docs", action="store_true",
                   help="also write docs/results/<machine>.md (each machine's write-up) and the answer table of "
                        "README.md (between its markers) from the results: what maintainers commit with results")
    s.add_argument("--no-asv", action="store_true",
                   help="only write leaderboard.html, do not run `asv publish` (which needs a git checkout "
                        "holding the results' commits and results/benchmarks.json)")
    s.set_defaults(func=cmd_publish)

    s = sub.add_parser(
        "serve", help="serve html/ (leaderboard and asv's graphs) on 127.0.0.1 only",
        description="Serve the published html/ folder over HTTP, bound to 127.0.0.1 only: other machines "
                    "cannot reach it. Run `tokfrag publish` first. Ctrl-C stops.")
    s.add_argument("--port", type=int, default=8080, help="port (default: 8080; 0 picks a free one)")
    s.add_argument("--html", metavar="DIR", help="folder to serve (default: html_dir of asv.conf.json)")
    s.set_defaults(func=cmd_serve)
