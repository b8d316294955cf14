"""The ``tokfrag`` command line: prepare | train | bench | parity | compare | calibrate | publish | serve | info."""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import uuid
from pathlib import Path

from . import __version__, config
from .errors import GitError, UsageError, printable

# --- prepare --------------------------------------------------------------------------

def cmd_prepare(args) -> int:
    from . import data, spec

    options = {k: v for k, v in (("text_column", args.text_column), ("label_column", args.label_column),
                                 ("size", args.size)) if v is not None}
    if args.source:
        if len(args.dataset) != 1:
            raise UsageError("--source needs exactly one KIND (image, video or text), e.g. "
                             "`tokfrag prepare image --source DIR --name NAME`")
        if args.preset:
            raise UsageError("--preset applies to the embedded video dataset, not to a source of your own")
        path = data.prepare_source(args.dataset[0], args.source, name=args.name, force=args.force,
                                   target=args.target, **options)
        print(describe_own(path.name))
        return 0
    given = [opt for opt, v in (("--name", args.name), ("--target", args.target), ("--size", args.size),
                                ("--text-column", args.text_column), ("--label-column", args.label_column)) if v]
    if given:
        raise UsageError(f"{', '.join(given)} need(s) --source: your own data, e.g. "
                         "`tokfrag prepare text --source FILE --name NAME`")
    names = args.dataset or spec.datasets()
    for name in names:
        if data.user_meta(name) is None:
            data.builder(name, list(data.user_metas()))  # unknown name -> error listing valid ones
    if args.preset and len(names) != 1:
        raise UsageError("--preset needs exactly one DATASET (video)")
    for name in names:
        data.prepare(name, force=args.force, **({"preset": args.preset} if args.preset else {}))
    print(f"prepared: {', '.join(names)} in {data.cache_root()}")
    return 0


def describe_own(name: str) -> str:
    """A prepared dataset of one's own in a few lines: kind, classes, shape, splits, label mapping,
    fingerprint and its pipelines."""
    from . import catalog, data

    meta = data.user_meta(name)
    pipelines = catalog.user_pipelines(name)
    classes = meta["classes"]
    shown = ", ".join(classes[:12]) + (f", ... ({len(classes)} in all)" if len(classes) > 12 else "")
    split = meta["split"]
    how = "the source's own split" if split["from"] == "source" else \
        f"stratified split, {split['test_fraction']:.0%} test, seed {split['seed']}"
    lines = [f"prepared: {name} ({meta['kind']}) in {data.cache_root() / name}",
             f"  classes: {len(classes)}: {shown}",
             f"  one sample: {'x'.join(map(str, meta['shape']))}"
             f"{' bytes (99th percentile of the training texts)' if meta['kind'] == 'text' else ''}",
             f"  train {meta['splits']['train']} / test {meta['splits']['test']} ({how})",
             f"  data sha256: {meta['data_sha256']}"]
    if meta.get("label_map"):
        pairs = list(meta["label_map"].items())
        lines.append("  labels mapped to class ids: " + ", ".join(f"{k} -> {v}" for k, v in pairs[:12])
                     + (", ..." if len(pairs) > 12 else ""))
    for p in pipelines.values():
        extra = f", {p.codebook.size}-id vocabulary" if p.words else (
            f", {p.codebook.size} centroids" if p.codebook else "")
        lines.append(f"  pipeline {p.name}: {p.seq_len} units{extra}, {p.train.epochs} epochs")
    return "\n".join(lines)


# --- train ----------------------------------------------------------------------------

def cmd_train(args) -> int:
    from . import catalog, frameworks, spec, training

    pipeline = catalog.get_pipeline(args.pipeline)
    if args.epochs:
        pipeline = spec.with_overrides(pipeline, epochs=args.epochs)
    if args.seed is not None:
        pipeline = spec.with_overrides(pipeline, seed=args.seed)
    for fw in args.framework:
        frameworks.check_name(fw)
    rows = []
    # PyTorch first, whatever the order asked: importing torch's triton (through timm and
    # torchvision) after TensorFlow crashes the process (a segmentation fault in triton's import)
    for fw in sorted(dict.fromkeys(args.framework), key=list(frameworks.FRAMEWORKS).index):
        if args.workers > 1:
            from .workers import train as train_on_workers

            r = train_on_workers(fw, pipeline, device=args.device, workers=args.workers)
        else:
            r = training.train(fw, pipeline, device=args.device)
        rows.append(r)
        ttt = "never" if r["time_to_target"] is None else f"{r['time_to_target']:.1f} s"
        on = f" on {args.workers} workers" if args.workers > 1 else ""
        print(f"{fw:10s} {pipeline.name:16s}{on} accuracy {r['accuracy']:.2f}%  train {r['train_seconds']:.1f} s  "
              f"{r['samples_per_second']:.0f} samples/s  time to {pipeline.dataset.target_accuracy:g}%: {ttt}")
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=2))
    return 0


# --- bench ----------------------------------------------------------------------------

# The default matrix: every pipeline x framework x device in default mode and fp32, plus parity.
DEFAULT_BENCHMARKS = [r"^bench_(pipelines|parity)\."]
# `--perf`: the part of bench_perf that answers the performance questions in well under an
# hour on 2 cores (the whole of it, `--full`, takes hours): the matmul peak; every pipeline's
# compiled step; every mode x precision of the largest pipeline (video/fragment) with its
# first step, FLOP/s and MFU; bf16 accuracy of mnist/fragment; the cost-scaling sweep.
PERF_BENCHMARKS = [
    r"^bench_perf\.Peak\.track_peak_flops\('cpu'",
    r"^bench_perf\.Modes\.time_train_step\(.*'cpu', 'compiled', 'fp32'\)",
    r"^bench_perf\.Modes\..*\('(pytorch|tensorflow)', 'video/fragment', 'cpu'",
    r"^bench_perf\.Accuracy\.track_.*'mnist/fragment', 'cpu', 'default', 'bf16'",
    r"^bench_perf\.Scaling\.",
]


def scale_selection(part: str) -> list[str]:
    """The asv -b regexes of one part of the scale grid, ``DATASET[:BACKBONE[:AXIS]]``: the grid's points
    of the dataset's pipelines in ``spec.SCALE_FRAMEWORK`` under the backbone (or each of
    ``spec.SCALE_BACKBONES``), on the axis (or all three; the default point, which the axes share, goes
    with the whole grid or with the data axis), the cross-check subset in the other framework with the
    transformer (with the whole grid, or with the axis of each of its points), and the points' sizes."""
    import re

    from . import spec
    from .backbones import names as backbone_names

    grammar = f"DATASET[:BACKBONE[:AXIS]], e.g. video:cnn:budget; datasets {', '.join(spec.SCALE_GRID)}, " \
              f"backbones {', '.join(backbone_names())}, axes {', '.join(spec.SCALE_AXES)}"
    dataset, backbone, axis, *rest = part.split(":") + ["", "", ""]
    if dataset not in spec.SCALE_GRID or any(rest) or (backbone and backbone not in backbone_names()) \
            or (axis and axis not in spec.SCALE_AXES):
        raise UsageError(f"--scale {part}: expected {grammar}")
    backbones = [backbone] if backbone else list(spec.SCALE_BACKBONES)

    def on_axis(points):
        return [p for p in points if not axis or spec.parse_point(p)[0] == axis
                or (p == spec.DEFAULT_POINT and axis == "data")]

    def alt(xs):
        return "(" + "|".join(re.escape(x) for x in xs) + ")"

    points = on_axis([spec.DEFAULT_POINT, *spec.SCALE_GRID[dataset]])
    pipe = rf"'{re.escape(dataset)}/(fragment|token)'"
    out = [rf"^bench_scale\.Training\.track_accuracy\('{spec.SCALE_FRAMEWORK}', {pipe}, '{alt(backbones)}', "
           rf"'{alt(points)}', 'cpu', \d+\)$",
           rf"^bench_scale\.Size\.track_\w+\({pipe}, '{alt(backbones)}', '{alt(points)}'\)$"]
    cross = spec.SCALE_CROSS_CHECK
    checked = on_axis(list(cross["points"]))
    if cross["backbone"] in backbones and checked:
        out.append(rf"^bench_scale\.Training\.track_accuracy\('{cross['framework']}', {pipe}, "
                   rf"'{cross['backbone']}', '{alt(checked)}', 'cpu', \d+\)$")
    return out


def cmd_bench(args) -> int:
    from . import catalog, curves, data, repo, spec
    from .machine import annotate_asv_machine, asv_machine_extras, data_record, machine_name, register_asv_machine
    from .machine import check_name as check_machine_name
    from .results import adding_benchmarks

    if args.scale and (args.perf or args.full or args.bench):
        raise UsageError("--scale is a selection of its own: use it without --perf, --full and -b")
    if args.perf and (args.full or args.bench):
        raise UsageError("--perf is a fixed selection: use it without --full and -b")
    if args.seeds is not None:
        if args.seeds < 1:
            raise UsageError(f"--seeds {args.seeds}: a run needs at least 1 seed (3 give an interval)")
        config.SEEDS.set(args.seeds)  # read by the suite (benchmarks/common.py)
    selected = list(dict.fromkeys(args.dataset or spec.datasets()))
    for name in selected:
        catalog.pipelines_of(name)  # an unknown or unprepared dataset: the error says how to prepare it
    if args.dataset:
        config.DATASETS.set(",".join(selected))  # read by the suite (benchmarks/common.py)
    if args.against:
        from .continuous import run_args

        return run_args(args)
    root = repo.require_checkout()
    if args.machine:
        check_machine_name(args.machine, root / "results")  # another machine's record: refused, never rewritten
    for name in selected:
        data.prepare(name, quiet=False)
    try:
        sha = repo.git(root, "rev-parse", "HEAD")
    except GitError:
        raise UsageError(f"`tokfrag bench` keys results by the current git commit, and {root} has none: "
                         "commit first (git commit)") from None
    machine = args.machine or machine_name(root / "results")
    py = sys.executable
    register_asv_machine(machine)
    extras = asv_machine_extras()
    # the data each dataset name stands for in this run: asv copies these into the results file,
    # and `tokfrag compare` refuses to compare results measured on different data; the machine's
    # record keeps the other datasets' (a partial run adds, it never narrows)
    extras.update(data_record(root / "results", machine, data.params(selected)))
    annotate_asv_machine(machine, extras)
    for key, state in extras.items():
        if state.startswith("skipped"):
            print(f"{key.replace('_', ' on ')}: {state}", flush=True)
    # --record-samples: the leaderboard's speed intervals and the gate's U test need asv's samples
    base = [py, "-m", "asv", "run", "--python=same", "--set-commit-hash", sha, "--machine", machine, "--show-stderr",
            "--record-samples"]
    if args.scale:
        selection = [b for part in args.scale for b in scale_selection(part)]
    else:
        selection = args.bench or (PERF_BENCHMARKS if args.perf else [] if args.full else DEFAULT_BENCHMARKS)
    cmd = base + [a for b in selection for a in ("-b", b)] + (["--quick"] if args.quick else [])
    env, session = dict(os.environ), uuid.uuid4().hex
    config.RUN.set(session, env)
    if args.smoke:
        config.SMOKE.set(1, env)
    print(f"running ({config.SEEDS.raw() or config.DEFAULT_SEEDS} training seeds):", " ".join(cmd), flush=True)
    # the suite's parameter lists follow --dataset and --seeds: a partial run adds to benchmarks.json
    with adding_benchmarks(root / "results"):
        rc = subprocess.run(cmd, cwd=root, env=env).returncode
        kept = curves.collect(session, root / "results" / machine, sha)
        if kept:
            print(f"learning curves: {kept}", flush=True)
        results = sorted((root / "results" / machine).glob(f"{sha[:8]}-existing-*.json"))
        if rc == 0 and results and not args.quick:
            _steady(base, selection, results[-1], env, root,
                    check=not args.no_check and selection == DEFAULT_BENCHMARKS)
    print(f"\nresults: {root / 'results' / machine}/ (commit {sha[:8]})")
    return rc


def _steady(asv_cmd: list[str], selection: list[str], path, env: dict, root, check: bool) -> None:
    """Re-measure, once, every timing of this run whose samples spread more than stats.NOISY
    (flagged on the leaderboard if it stays so); then compare asv's step times with an
    in-process loop (``tokfrag.steady``)."""
    import re

    from . import stats, steady

    def selected(name, key):
        return not selection or any(re.search(b, name) or re.search(b, f"{name}({', '.join(key)})")
                                    for b in selection)

    noisy = [n for n in steady.noisy(path) if selected(n[0], n[1])]
    if noisy:
        print(f"\nre-measuring {len(noisy)} timing(s) whose samples spread more than {stats.NOISY:.0%}:", flush=True)
        for name, key, spread in noisy:
            print(f"  {name}({', '.join(key)}): {spread:.0%}", flush=True)
        cmd = list(asv_cmd)
        for name, key, _ in noisy:
            cmd += ["-b", steady.selector(name, key)]
        subprocess.run(cmd, cwd=root, env=env)
        still = [n for n in steady.noisy(path) if selected(n[0], n[1])]
        print(f"{len(noisy) - len(still)} now steady; {len(still)} still noisy (flagged on the leaderboard, "
              "never deciding a speed verdict)", flush=True)
    if check:
        print(f"\nsteady-state check: asv's median {steady.STEP} against the same step in one process "
              f"(within {steady.TOLERANCE:.0%}, or why not)", flush=True)
        rows = steady.check(path)
        print(steady.table(rows), flush=True)
        settled = steady.settle(rows, path, asv_cmd, env, root, log=lambda m: print(m, flush=True))
        if settled is not rows:
            print(steady.table(settled), flush=True)
        print(steady.write(settled, path), flush=True)


# --- info -----------------------------------------------------------------------------

def cmd_info(args) -> int:
    from . import data, frameworks, spec
    from .machine import describe

    print(f"tokfrag {__version__}, Python {platform.python_version()}")
    print("machine:", json.dumps(describe()))
    for fw in frameworks.FRAMEWORKS:
        print(f"framework {fw}: {'installed' if frameworks.installed(fw) else 'missing'}")
    print("pipelines:")
    for p in list(spec.PIPELINES.values()) + list(spec.VARIANTS.values()):
        unit = "words" if p.words else f"units of {p.windows.window} every {p.windows.stride}"
        extra = f", {p.codebook.size}-id vocabulary" if p.words else (
            f", {p.codebook.size} centroids" if p.codebook else "")
        print(f"  {p.name:22s} {p.seq_len:4d} {unit}{extra}")
    print(f"data cache: {data.cache_root()}")
    for name in data.BUILDERS:
        meta = data.cache_root() / name / "meta.json"
        print(f"  {name}: {'prepared' if meta.exists() else 'not prepared (tokfrag prepare ' + name + ')'}")
    own = data.user_metas()
    print(f"datasets of your own: {len(own) or 'none (tokfrag prepare KIND --source PATH --name NAME)'}")
    for name in own:
        print(describe_own(name))
    print("environment (TOKFRAG_* variables, docs/configuration.md):")
    for var in config.VARIABLES:
        print(f"  {var.name:22s} {var.raw() or 'unset: ' + var.default}")
    return 0


# --- parser ---------------------------------------------------------------------------

def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="tokfrag",
        description="Benchmark token vs fragment pipelines in PyTorch and TensorFlow, with asv.",
        epilog="Start with `make bench` (everything) or `tokfrag prepare` then `tokfrag bench`.",
    )
    p.add_argument("--version", action="version", version=f"tokfrag {__version__}")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    s = sub.add_parser("prepare", help="build datasets into the cache (a no-op when already built)",
                       description="Verify a dataset's source by sha256, split it, save it as a Hugging Face "
                                   "Arrow dataset under datasets/cache/, and fit the token pipelines' k-means "
                                   "codebooks on training windows. With no DATASET, prepares all.")
    s.add_argument("dataset", nargs="*",
                   help="embedded dataset name(s), e.g. mnist (default: all); with --source, the KIND of your "
                        "data: image (or mnist), video or text")
    s.add_argument("--source", metavar="PATH",
                   help="your own data, prepared under a name of its own (--name): image: a folder of IDX files "
                        "(raw or .gz) or of images in one sub-folder per class; video: a .npz of uint8 clips "
                        "(N, T, H, W) and labels, or a folder of .npy; text: a .csv, .jsonl, .parquet file or a "
                        "saved Hugging Face dataset folder")
    s.add_argument("--name", metavar="NAME",
                   help="with --source: the dataset's name (default: from the source's file or folder name); its "
                        "pipelines are NAME/fragment and NAME/token")
    s.add_argument("--size", metavar="HxW",
                   help="image folders: resize every image to HxW pixels (default: the most common size, the "
                        "longer side at most 64)")
    s.add_argument("--target", type=float, metavar="PCT",
                   help="with --source: the test accuracy (%%) whose first crossing is timed (default: the "
                        "embedded dataset's of the same kind)")
    s.add_argument("--preset", choices=["small", "full"],
                   help="video: clip counts (small: 2,000 train / 500 test, the default; full: 10,000 / 2,000)")
    s.add_argument("--text-column", metavar="NAME", help="text: the column holding the text (default: text)")
    s.add_argument("--label-column", metavar="NAME", help="text: the column holding the label (default: label)")
    s.add_argument("--force", action="store_true", help="rebuild even if the cache is up to date")
    s.set_defaults(func=cmd_prepare)

    s = sub.add_parser("train", help="train one pipeline and print accuracy and speed",
                       description="Train a pipeline for its budget in one or both frameworks; prints test "
                                   "accuracy, training time, throughput and time to the accuracy target.")
    s.add_argument("pipeline", help="pipeline name, e.g. mnist/fragment")
    s.add_argument("--framework", nargs="+", default=["pytorch", "tensorflow"], metavar="FW",
                   help="pytorch and/or tensorflow (default: both)")
    s.add_argument("--device", default="cpu", choices=["cpu", "gpu"])
    s.add_argument("--epochs", type=int, help="override the budget (epochs)")
    s.add_argument("--seed", type=int, help="training seed: initial weights, batch order, shifts (default 0)")
    s.add_argument("--workers", type=int, default=1, metavar="N",
                   help="data-parallel worker processes on this machine (PyTorch DDP, TensorFlow "
                        "MultiWorkerMirroredStrategy), each a shard of every batch; N must divide the batch "
                        "size (default 1; several machines: see the README)")
    s.add_argument("--json", metavar="FILE", help="also write the results (with the accuracy curve) to FILE")
    s.add_argument("--verbose", action="store_true",
                   help="also show the frameworks' own logs and warnings (TensorFlow's start-up lines, ...); "
                        "default: tokfrag's lines only")
    s.set_defaults(func=cmd_train)

    s = sub.add_parser("bench", help="run the asv suite in this interpreter; results go to results/<machine>/",
                       description="Prepare the data, then run `asv run --python=same` for the current commit. "
                                   "Results are saved under results/<machine>/ keyed by the commit.")
    s.add_argument("-b", "--bench", action="append", metavar="REGEX",
                   help="only benchmarks matching REGEX (asv -b; repeatable)")
    s.add_argument("--dataset", action="append", metavar="NAME",
                   help="benchmark the pipelines of this dataset only, embedded (mnist, video, text) or prepared "
                        "of your own (tokfrag prepare KIND --source PATH --name NAME); repeatable (default: the "
                        "embedded ones)")
    s.add_argument("--machine", help="machine name (default: host name, plus the GPU model if any)")
    s.add_argument("--quick", action="store_true", help="asv --quick: one sample per benchmark (no statistics)")
    s.add_argument("--smoke", action="store_true", help="shrink the training budget to one epoch (smoke test)")
    s.add_argument("--seeds", type=int, metavar="N",
                   help="training seeds per combination (default 3, or $TOKFRAG_SEEDS): every training metric "
                        "is stored per seed, and the leaderboard's intervals need at least 2")
    s.add_argument("--no-check", action="store_true",
                   help="skip the steady-state check after the default run (asv's step times against an "
                        "in-process loop, about 2 minutes)")
    s.add_argument("--full", action="store_true",
                   help="also run bench_perf (modes, precisions, MFU, peak, cost scaling): hours on 2 cores")
    s.add_argument("--perf", action="store_true",
                   help="run only the performance subset of bench_perf (the CPU matmul peak, every pipeline's "
                        "compiled step, all modes and precisions with MFU for video/fragment, bf16 accuracy of "
                        "mnist/fragment, cost scaling); about 40 min on 2 cores")
    s.add_argument("--scale", action="append", metavar="DATASET[:BACKBONE[:AXIS]]",
                   help="run one part of the scale grid (bench_scale: data, width and budget points with their "
                        "learning curves; tokfrag.spec.SCALE_GRID), e.g. --scale video:cnn or --scale "
                        "video:transformer:budget (the default point goes with the data axis); repeatable. "
                        "make bench-scale runs every part")
    from .continuous import add_against_arguments

    add_against_arguments(s)
    s.add_argument("--verbose", action="store_true",
                   help="also show the frameworks' own logs and warnings (TensorFlow's start-up lines, ...); "
                        "default: tokfrag's lines only")
    s.set_defaults(func=cmd_bench)

    s = sub.add_parser("info", help="show the machine, frameworks, pipelines, data cache and TOKFRAG_* settings",
                       description="Show what tokfrag sees on this machine.")
    s.set_defaults(func=cmd_info)

    from .calibrate import add_parser as add_calibrate
    from .compare import add_parser as add_compare
    from .leaderboard.cli import add_parsers as add_leaderboard
    from .parity import add_parser as add_parity

    add_parity(sub)
    add_compare(sub)
    add_calibrate(sub)
    add_leaderboard(sub)
    return p


def main(argv=None) -> int:
    """Run one command. A user's mistake (UsageError) is one line on stderr and exit code 2;
    any other exception is a bug: it propagates, with its traceback (exit code 1)."""
    args = parser().parse_args(argv)
    if getattr(args, "verbose", False):
        config.VERBOSE.set(1)  # read by frameworks.quiet, here and in asv's benchmark processes
    try:
        return args.func(args)
    except UsageError as e:
        print(f"tokfrag {args.command}: error: {printable(str(e))}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"tokfrag {args.command}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
