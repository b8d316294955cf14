"""`tokfrag bench --against REF`: asv's continuous flow, in the current environment.

``asv continuous`` builds a fresh virtualenv per commit, which here means reinstalling torch
and TensorFlow twice per run. This flow benchmarks REF and the working tree with
``asv run --python=same`` instead, in the interpreter that is already set up:

1. ``git worktree add --detach <tmp>/ref REF``: REF's code, without touching the checkout.
2. Per side, a temporary asv config whose ``benchmark_dir`` is that side's ``benchmarks/``
   and whose ``results_dir`` is a temporary folder (the committed ``results/`` stays
   untouched), and an environment with ``ASV_PYTHONPATH`` and ``PYTHONPATH`` set to the
   side's root, so that ``tokfrag`` and ``implementations`` are imported from that side.
   (The installed tokfrag is an editable install of the checkout, whose import hook comes
   after sys.path entries. asv's benchmark.py strips PYTHONPATH from sys.path and honours
   only ASV_PYTHONPATH.) Checked before running, through asv's own benchmark.py on a probe
   suite: the flow stops if a side would import another side's code.
3. Rounds, interleaved: REF, HEAD, REF, HEAD, ... each an ``asv run -a rounds=1``; rounds after
   the first repeat only the ``time_*`` combinations that ran, with ``--append-samples`` so
   the samples of all rounds are merged. (asv's own ``--interleave-rounds`` refuses
   ``--python=same``.) Alternating the sides spreads slow drifts of a shared machine over
   both instead of biasing one.
4. ``tokfrag compare`` on the two results files; its exit code is returned. With
   ``html_dir``, ``asv publish`` of both sides' results goes there too.

Entry points: ``tokfrag bench --against REF`` (cli.py) and ``python -m tokfrag.continuous REF``,
both through :func:`add_against_arguments` and :func:`run_args`.

HEAD's results are keyed by the HEAD commit even when the working tree is dirty (said in
the output). Each side gets its own ``TOKFRAG_RUN``, so a training run cached by one side is
never read by the other. Both sides share the prepared data cache (``$TOKFRAG_DATA``, else
HEAD's ``datasets/cache``); REF's ``tokfrag prepare`` runs on it first and is a no-op
when the cache is current.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

from . import compare as cmp
from . import config
from .errors import GitError, UsageError
from .machine import annotate_asv_machine, machine_name, register_asv_machine
from .repo import git, working_repo

DEFAULT_ROUNDS = 2


class AgainstError(UsageError):
    """The flow cannot run (bad REF, no asv.conf.json, wrong code imported...)."""


@dataclass
class Side:
    label: str  # "base" (REF) or "head" (working tree)
    root: Path  # checkout whose code this side runs
    sha: str
    work: Path  # this side's temporary folder: asv.conf.json, results/, html/
    run_id: str  # TOKFRAG_RUN

    @property
    def config(self) -> Path:
        return self.work / "asv.conf.json"

    @property
    def results(self) -> Path:
        return self.work / "results"


def _write_config(side: Side, fallback: Path) -> None:
    """The side's own asv.conf.json (or HEAD's, if REF has none), redirected into side.work."""
    from asv.util import load_json  # asv.conf.json may hold // comments

    src = side.root / "asv.conf.json"
    conf = load_json(str(src if src.exists() else fallback), js_comments=True)
    conf.setdefault("launch_method", "spawn")  # older commits passed it on the command line
    conf.update(repo=str(fallback.parent), benchmark_dir=str(side.root / conf.get("benchmark_dir", "benchmarks")),
                results_dir=str(side.results), html_dir=str(side.work / "html"),
                env_dir=str(side.work.parent / "env"))
    side.work.mkdir(parents=True, exist_ok=True)
    side.config.write_text(json.dumps(conf, indent=2))


def _data_params(env: dict) -> dict[str, str]:
    """``tokfrag.data.params`` of the run's datasets ($TOKFRAG_DATASETS, else the embedded ones). The
    cache is this process's (``$TOKFRAG_DATA``, else the checkout's), the one both sides read."""
    from . import data, spec

    names = config.datasets(env) or spec.datasets()
    return data.params(names)


def _env(side: Side, data_cache: str, smoke: bool) -> dict:
    """The side's environment. asv's benchmark.py *removes* PYTHONPATH entries from sys.path
    unless ASV_PYTHONPATH is set, and then puts those first: both are set, to the side's root."""
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    config.RUN.set(side.run_id, env)
    config.DATA.set(data_cache, env)
    for var in ("PYTHONPATH", "ASV_PYTHONPATH"):
        env[var] = os.pathsep.join([str(side.root)] + ([env[var]] if env.get(var) else []))
    if smoke:
        config.SMOKE.set(1, env)
    return env


# Run by asv's benchmark.py in the side's environment: it imports no tokfrag (it finds where tokfrag comes
# from), so the variable's name is written into it
_PROBE = """import importlib.util, json, os
found = {m: importlib.util.find_spec(m).origin for m in ("tokfrag", "implementations")
         if importlib.util.find_spec(m) is not None}
with open(os.environ[%r], "w") as f:
    json.dump(found, f)
"""


def check_imports(side: Side, env: dict) -> dict[str, str]:
    """Where ``tokfrag`` and ``implementations`` come from in asv's benchmark processes.

    Runs asv's own benchmark.py (``discover``) on a probe suite that records the origins,
    so the check sees exactly asv's sys.path handling. AgainstError unless both are under
    the side's root.
    """
    import importlib.util

    probe = side.work / "probe" / "tokfrag_probe"
    probe.mkdir(parents=True, exist_ok=True)
    (probe / "__init__.py").write_text(_PROBE % config.PROBE_OUT.name)
    out = side.work / "probe" / "origins.json"
    script = Path(importlib.util.find_spec("asv").origin).parent / "benchmark.py"
    r = subprocess.run([sys.executable, str(script), "discover", str(probe), str(side.work / "probe" / "found.json")],
                       cwd=side.work, env={**env, config.PROBE_OUT.name: str(out)}, capture_output=True, text=True)
    if r.returncode != 0 or not out.exists():
        raise AgainstError(f"{side.label}: could not check which tokfrag asv imports: {r.stderr.strip()[-800:]}")
    found = json.loads(out.read_text())
    root = side.root.resolve()
    if "tokfrag" not in found:
        raise AgainstError(f"{side.label}: asv's benchmark processes cannot import tokfrag from {root}")
    for module, origin in found.items():
        if root not in Path(origin).resolve().parents:
            raise AgainstError(f"{side.label}: asv would import {module} from {origin}, not from {root}; "
                               "is another tokfrag on ASV_PYTHONPATH or installed non-editable?")
    return found


def _asv(side: Side, env: dict, machine: str, selection: list[str], quick: bool, append: bool) -> int:
    cmd = [sys.executable, "-m", "asv", "run", "--python=same", "--set-commit-hash", side.sha,
           "--machine", machine, "--config", str(side.config),
           "--record-samples", "--show-stderr", "-a", "rounds=1"]
    if append:
        cmd.append("--append-samples")
    if quick:
        cmd.append("--quick")
    for regex in selection:
        cmd += ["-b", regex]
    print(f"\n[{side.label} {side.sha[:8]}] {' '.join(cmd)}", flush=True)
    return subprocess.run(cmd, cwd=side.work, env=env).returncode


def results_file(side: Side, machine: str) -> Path:
    files = sorted((side.results / machine).glob(f"{side.sha[:8]}-*.json"))
    if not files:
        raise AgainstError(f"{side.label}: asv wrote no results under {side.results / machine}/ "
                           "(see its output above: does every -b regex compile and match a benchmark of "
                           "this side?)")
    return files[0]


def timed_combos(path: Path) -> list[str]:
    """asv -b regexes selecting exactly the time_* combinations with a number in ``path``."""
    result = cmp.read_results(path)
    out = []
    for name in result.entries:
        if cmp.kind_of(name, result.meta.get(name, {})) != "time":
            continue
        for key, combo in result.combos(name).items():
            if cmp.is_number(combo.value):
                full = f"{name}({', '.join(key)})" if key else name
                out.append("^" + re.escape(full) + "$")
    return out


@dataclass
class Options:
    """How ``bench_against`` runs and judges (defaults as ``tokfrag compare``)."""

    machine: str | None = None  # default: tokfrag.machine.machine_name()
    rounds: int = DEFAULT_ROUNDS  # REF/HEAD alternations; rounds after the first re-time time_* only
    factor: float = cmp.DEFAULT_FACTOR
    accuracy_tol: float = cmp.DEFAULT_ACCURACY_TOL
    only_changed: bool = False
    smoke: bool = False  # TOKFRAG_SMOKE=1: one training epoch
    quick: bool = False  # asv --quick: one sample, so one round and a factor-only verdict
    workdir: str | Path | None = None  # default: a new temporary folder
    html_dir: str | Path | None = None  # asv publish of both sides' results there (deleted and rebuilt)


def bench_against(ref: str, bench_regexes: list[str] | None = None, repo: str | Path | None = None,
                  **options) -> int:
    """Benchmark REF and the working tree in this interpreter, then gate: 0 / 1 / 2 as ``tokfrag compare``.

    ``bench_regexes`` are asv ``-b`` regexes (all benchmarks if empty: slow). ``options`` are
    the fields of :class:`Options`. Results stay in the work folder (printed); the REF
    worktree is removed at the end.
    """
    try:
        opts = Options(**options)
        return _bench_against(ref, list(bench_regexes or []), Path(repo) if repo else working_repo(), opts)
    except UsageError as e:  # this flow's own exit codes (0 / 1 / 2), as `tokfrag compare`
        print(f"tokfrag bench --against: error: {e}", file=sys.stderr)
        return cmp.EXIT_ERROR


def _bench_against(ref: str, selection: list[str], repo: Path, opts: Options) -> int:
    repo = Path(git(repo, "rev-parse", "--show-toplevel"))
    if not (repo / "asv.conf.json").exists():
        raise AgainstError(f"{repo} has no asv.conf.json: run this from a tokfrag checkout")
    if opts.rounds < 1:
        raise AgainstError(f"--rounds must be >= 1 (got {opts.rounds})")
    rounds = 1 if opts.quick else opts.rounds
    try:
        ref_sha = git(repo, "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}")
    except GitError:
        raise AgainstError(f"{ref!r} is not a commit of {repo} (try HEAD~1, a branch, or a sha)") from None
    head_sha = git(repo, "rev-parse", "HEAD")
    dirty = bool(git(repo, "status", "--porcelain", "--untracked-files=no"))
    machine = opts.machine or machine_name()
    work = Path(opts.workdir or tempfile.mkdtemp(prefix="tokfrag-against-")).resolve()
    if (work / "ref").exists():
        raise AgainstError(f"{work / 'ref'} already exists: pass an empty or new --workdir")
    work.mkdir(parents=True, exist_ok=True)
    data_cache = str(config.data_dir() or repo / "datasets" / "cache")

    base = Side("base", work / "ref", ref_sha, work / "base", f"against-base-{uuid.uuid4().hex}")
    head = Side("head", repo, head_sha, work / "head", f"against-head-{uuid.uuid4().hex}")
    print(f"tokfrag bench --against {ref}: base {ref_sha[:8]} (worktree {base.root}) vs head {head_sha[:8]}"
          f"{' + uncommitted changes' if dirty else ''} ({repo}); machine {machine}; {rounds} round(s); "
          f"work folder {work}", flush=True)
    if opts.quick:
        print("--quick: one sample per benchmark, so time_* are judged by the factor alone", flush=True)
    git(repo, "worktree", "add", "--detach", str(base.root), ref_sha)
    started = time.perf_counter()
    try:
        envs = {}
        for side in (base, head):
            _write_config(side, repo / "asv.conf.json")
            envs[side.label] = _env(side, data_cache, opts.smoke)
            found = check_imports(side, envs[side.label])
            print(f"[{side.label}] asv imports " + ", ".join(f"{m} from {Path(o).parent}" for m, o in found.items()))
        register_asv_machine(machine)
        for side in (base, head):  # the data both sides read; a no-op when prepared
            r = subprocess.run([sys.executable, "-m", "tokfrag.cli", "prepare"], cwd=side.work, env=envs[side.label])
            if r.returncode != 0:
                raise AgainstError(f"{side.label}: `tokfrag prepare` failed (exit {r.returncode}) with "
                                   f"{config.DATA.name}={data_cache}; see above")
        # the data each dataset name stands for, recorded in both sides' results (both read one cache):
        # without it a machine entry would keep the fingerprints of an earlier run's data
        annotate_asv_machine(machine, _data_params(envs["head"]))
        for rnd in range(rounds):
            for side in (base, head):
                sel = selection if rnd == 0 else timed_combos(results_file(side, machine))
                if rnd and not sel:
                    continue  # nothing timed: later rounds would add nothing
                rc = _asv(side, envs[side.label], machine, sel, opts.quick, append=rnd > 0)
                if rc != 0:
                    print(f"[{side.label}] asv run exited {rc} (a failed benchmark is recorded as null "
                          "and reported by the comparison)", flush=True)
        files = {side.label: results_file(side, machine) for side in (base, head)}
    finally:
        subprocess.run(["git", "worktree", "remove", "--force", str(base.root)], cwd=repo, capture_output=True)
        shutil.rmtree(base.root, ignore_errors=True)
        subprocess.run(["git", "worktree", "prune"], cwd=repo, capture_output=True)
    elapsed = time.perf_counter() - started
    result = cmp.compare_sets(cmp.read_results(files["base"]), cmp.read_results(files["head"]),
                              factor=opts.factor, only_changed=opts.only_changed, accuracy_tol=opts.accuracy_tol)
    print("\n" + result.table())
    print(f"\nbenchmarked in {elapsed:.0f} s; results (kept out of results/): {files['base']} and {files['head']}"
          + (" (head includes uncommitted changes)" if dirty else ""))
    if opts.html_dir:
        publish_html(files, head, repo, Path(opts.html_dir).resolve())
    return result.exit_code


def publish_html(files: dict[str, Path], head: Side, repo: Path, html_dir: Path) -> None:
    """``asv publish`` of both sides' results into ``html_dir`` (which asv deletes and rebuilds).

    The graphs follow the first-parent history of HEAD (``branches: ["HEAD"]``): REF shows up
    when it is an ancestor, as the base of a pull request is. When REF and HEAD are the same
    commit (a dirty working tree against HEAD) only HEAD's file can be published.
    """
    folder = head.work.parent / "publish"
    shutil.rmtree(folder, ignore_errors=True)
    machine_dir = folder / "results" / files["head"].parent.name
    machine_dir.mkdir(parents=True)
    for label in ("base", "head"):  # head last: it wins a name clash
        shutil.copy(files[label], machine_dir / files[label].name)
    shutil.copy(files["head"].parent / "machine.json", machine_dir / "machine.json")
    shutil.copy(files["head"].parent.parent / "benchmarks.json", folder / "results" / "benchmarks.json")
    conf = json.loads(head.config.read_text())
    conf.update(results_dir=str(folder / "results"), html_dir=str(html_dir), branches=["HEAD"], repo=str(repo))
    (folder / "asv.conf.json").write_text(json.dumps(conf, indent=2))
    r = subprocess.run([sys.executable, "-m", "asv", "publish", "--config", str(folder / "asv.conf.json")],
                       cwd=folder, capture_output=True, text=True)
    if r.returncode != 0:
        print(f"asv publish failed (exit {r.returncode}); no html: {r.stderr.strip()[-800:]}", file=sys.stderr)
    else:
        print(f"html: {html_dir / 'index.html'}")


# --- command line ---------------------------------------------------------------------

def add_against_arguments(s, standalone: bool = False) -> None:
    """Options of ``tokfrag bench --against`` (added to the bench subparser), or of
    ``python -m tokfrag.continuous REF`` when ``standalone``."""
    if standalone:
        s.add_argument("against", metavar="REF", help="commit to compare the working tree with, e.g. HEAD~1")
        s.add_argument("-b", "--bench", action="append", metavar="REGEX",
                       help="only benchmarks matching REGEX (asv -b; repeatable)")
        s.add_argument("--machine", help="machine name (default: host name, plus the GPU model if any)")
        s.add_argument("--quick", action="store_true", help="asv --quick: one sample (factor-only verdicts)")
        s.add_argument("--smoke", action="store_true", help="shrink the training budget to one epoch")
    else:
        s.add_argument("--against", metavar="REF",
                       help="regression gate: benchmark REF (a temporary git worktree) and the working tree "
                            "in this environment, alternately, then compare; exit 0 / 1 regression / 2 failure")
    s.add_argument("--rounds", type=int, default=DEFAULT_ROUNDS, metavar="N",
                   help=f"with --against: REF/HEAD alternations, samples merged (default {DEFAULT_ROUNDS})")
    s.add_argument("--factor", type=float, default=cmp.DEFAULT_FACTOR,
                   help=f"with --against: ratio that counts as a change (default {cmp.DEFAULT_FACTOR:.2f})")
    s.add_argument("--accuracy-tol", type=float, default=cmp.DEFAULT_ACCURACY_TOL, metavar="POINTS",
                   help=f"with --against: accuracy drop tolerated where seeds give no interval (one seed) "
                        f"(default {cmp.DEFAULT_ACCURACY_TOL:g} point)")
    s.add_argument("--only-changed", action="store_true", help="with --against: do not list unchanged benchmarks")
    s.add_argument("--workdir", metavar="DIR", help="with --against: where the worktree and results go "
                                                    "(default: a new temporary folder)")
    s.add_argument("--html", metavar="DIR", help="with --against: asv publish both sides' results into DIR")


def run_args(args) -> int:
    """``bench_against`` from parsed arguments (the bench subcommand's, or this module's)."""
    return bench_against(args.against, args.bench, machine=args.machine, rounds=args.rounds, factor=args.factor,
                         accuracy_tol=args.accuracy_tol, only_changed=args.only_changed, smoke=args.smoke,
                         quick=args.quick, workdir=args.workdir, html_dir=args.html)


def main(argv=None) -> int:
    import argparse

    p = argparse.ArgumentParser(prog="python -m tokfrag.continuous",
                                description="The regression gate of `tokfrag bench --against REF`, standalone.")
    add_against_arguments(p, standalone=True)
    return run_args(p.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
