"""Harness fidelity: the project's training loop against a bare loop of the same model.

For each framework and pipeline, measured side by side in one process:

* harness: the steps of ``tokfrag.training`` (shift, upload and preprocess each batch in the
  framework, set the rate, one AdamW step), as the accuracy runs time them;
* bare: the identical model, batch size and threads in a plain loop on synthetic tensors
  (as timm's benchmark.py does), with no preprocessing;
* preprocessing alone: upload + fragment / tokenize one batch of raw samples.

The three alternate in rounds, and the medians are compared, so that drift on a shared
machine hits all of them alike. Fidelity = harness / bare throughput (1.0: the harness costs
nothing). Preprocessing is part of every pipeline's step (a token pipeline's nearest-centroid
search is the price of tokens), so the fidelity "without preprocessing" takes it out and shows
the loop's own overhead. The input pipeline is not the bottleneck when preprocessing runs at
least 5x faster than training.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from . import frameworks
from .augment import shift
from .catalog import get_pipeline
from .errors import UsageError
from .spec import PIPELINES
from .trainer import bare_loop
from .training import augment_rng, batch_order, make_trainer

STEPS = 10
ROUNDS = 5


def measure(framework: str, spec, steps: int = STEPS, device: str = "cpu", rounds: int = ROUNDS) -> dict:
    """Harness, bare loop and preprocessing alone, in ``rounds`` alternating rounds of ``steps``
    steps each (so that drift on a shared machine hits all three alike); medians per step."""
    import statistics

    impl = frameworks.get(framework)
    trainer, data = make_trainer(framework, spec, device)
    t = spec.train
    b = t.batch_size
    order = batch_order(t.seed, 0, len(data.train_y))
    rng = augment_rng(t.seed, 0)
    batches = [order[(i * b) % (len(order) - b):][:b] for i in range(steps * rounds + 3)]
    y_all = trainer.labels(data.train_y)

    def harness_step(idx):
        x = trainer.preprocess(trainer.upload(shift(data.train_x[idx], rng, t.max_shift)))
        return trainer.train_step(x, trainer.take(y_all, idx), t.lr)

    def timed_harness(chunk) -> float:
        start = time.perf_counter()
        for idx in chunk:
            loss = harness_step(idx)
        trainer.sync(loss)
        return (time.perf_counter() - start) / len(chunk)

    def timed_prep(chunk) -> float:
        start = time.perf_counter()
        for idx in chunk:
            trainer.preprocess(trainer.upload(data.train_x[idx]))
        trainer.sync()
        return (time.perf_counter() - start) / len(chunk)

    for idx in batches[:3]:
        trainer.sync(harness_step(idx))
    bare_timed = bare_loop(impl, spec, b, device)
    times: dict = {"harness": [], "bare": [], "prep": []}
    for r in range(rounds):
        chunk = batches[3 + r * steps:3 + (r + 1) * steps]
        times["harness"].append(timed_harness(chunk))
        times["bare"].append(bare_timed(steps))
        times["prep"].append(timed_prep(chunk))
    harness, bare, prep = (statistics.median(times[k]) for k in ("harness", "bare", "prep"))
    return {"framework": framework, "pipeline": spec.name, "batch_size": b, "rounds": rounds, "steps": steps,
            "harness_samples_per_s": b / harness, "bare_samples_per_s": b / bare,
            "fidelity": bare / harness,
            # the loop's own cost: the step time that is neither preprocessing nor the model's step
            "fidelity_without_preprocess": bare / max(harness - prep, 1e-12),
            "preprocess_samples_per_s": b / prep, "preprocess_over_train": harness / prep}


def add_parser(sub) -> None:
    s = sub.add_parser(
        "calibrate", help="measure harness overhead against a bare training loop (fidelity)",
        description="For each framework and pipeline, time the project's training steps and a bare loop "
                    "of the identical model on synthetic tensors, side by side, and print the ratio "
                    "(fidelity, 1.0 = no overhead) and how much faster preprocessing runs than training.")
    s.add_argument("pipeline", nargs="*", help="pipeline name(s) (default: all)")
    s.add_argument("--framework", nargs="+", default=list(frameworks.FRAMEWORKS), metavar="FW")
    s.add_argument("--steps", type=int, default=STEPS, help=f"timed steps per loop and round (default {STEPS})")
    s.add_argument("--rounds", type=int, default=ROUNDS,
                   help=f"alternating rounds of harness, bare loop and preprocessing; medians (default {ROUNDS})")
    s.add_argument("--steady", metavar="RESULTS_FILE", nargs="?", const="latest",
                   help="instead: compare asv's median Step.time_train_step in RESULTS_FILE (default: this "
                        "machine's latest results of the current commit) with the same step timed in one "
                        "process after the same steady-state warm-up; within 10%%, or the reason. A "
                        "combination outside is re-measured once, asv then the loop, back to back")
    s.add_argument("--no-remeasure", action="store_true",
                   help="with --steady: report only, never re-run asv (the results file stays as it is)")
    s.set_defaults(func=cmd_calibrate)


def _latest_results() -> Path:
    from .machine import machine_name
    from .repo import git, require_checkout

    root = require_checkout()
    sha = git(root, "rev-parse", "HEAD")
    folder = root / "results" / machine_name(root / "results")
    found = sorted(folder.glob(f"{sha[:8]}-*.json"))
    if not found:
        raise UsageError(f"no results of commit {sha[:8]} under {folder}/: run `tokfrag bench` first, "
                         "or name a results file")
    return found[-1]


def cmd_steady(path: str, no_remeasure: bool = False) -> int:
    from . import steady

    file = _latest_results() if path == "latest" else Path(path)
    if not file.is_file():
        raise UsageError(f"{file}: no such results file")
    rows = steady.check(file)
    if not rows:
        raise UsageError(f"{file}: no CPU {steady.STEP} with a number to check")
    print(f"{file}\n{steady.table(rows)}", flush=True)
    if not no_remeasure:
        from .repo import require_checkout

        settled = steady.settle(rows, file, steady.asv_command(file), cwd=require_checkout(),
                                log=lambda m: print(m, flush=True))
        if settled is not rows:
            rows = settled
            print(steady.table(rows))
    print(steady.write(rows, file))
    return 0


def cmd_calibrate(args) -> int:
    if args.steady:
        return cmd_steady(args.steady, args.no_remeasure)
    specs = [get_pipeline(n) for n in args.pipeline] if args.pipeline else list(PIPELINES.values())
    for fw in args.framework:
        frameworks.check_name(fw)
    if args.steps < 1 or args.rounds < 1:
        raise UsageError("--steps and --rounds must be at least 1")
    print(f"{'framework':10s} {'pipeline':16s} {'harness/s':>10s} {'bare/s':>9s} {'fidelity':>8s} "
          f"{'w/o prep':>8s} {'prep/s':>9s} {'prep/train':>10s}")
    for spec in specs:
        for fw in args.framework:
            if not frameworks.installed(fw):
                print(f"{fw:10s} {spec.name:16s} not measured ({fw} missing)")
                continue
            r = measure(fw, spec, args.steps, rounds=args.rounds)
            print(f"{fw:10s} {spec.name:16s} {r['harness_samples_per_s']:10.0f} {r['bare_samples_per_s']:9.0f} "
                  f"{r['fidelity']:8.2f} {r['fidelity_without_preprocess']:8.2f} "
                  f"{r['preprocess_samples_per_s']:9.0f} {r['preprocess_over_train']:10.1f}", flush=True)
    print("samples/s, medians of alternating rounds; fidelity = harness / bare throughput; w/o prep = the same "
          "with the preprocessing time taken out of the harness step; prep/train = preprocessing / training "
          "throughput", file=sys.stderr)
    return 0
