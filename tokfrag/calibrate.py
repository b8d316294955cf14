"""Harness fidelity: the project's training loop against a bare loop of the same model.

For each framework and pipeline, measured side by side in one process:

* harness: the steps of ``tokfrag.training`` (shift, upload and preprocess each batch in the
  framework, set the rate, one AdamW step), as the accuracy runs time them;
* bare: the identical model, batch size and threads in a plain loop on synthetic tensors
  (as timm's benchmark.py does), with no preprocessing;
* preprocessing alone: upload + fragment / tokenize one batch of raw samples.

Fidelity = harness / bare throughput (1.0: the harness costs nothing). The input pipeline
is not the bottleneck when preprocessing runs at least 5x faster than training.
"""

from __future__ import annotations

import sys
import time

from . import frameworks
from .augment import shift
from .spec import PIPELINES, get_pipeline
from .training import augment_rng, batch_order, make_trainer

STEPS = 30


def measure(framework: str, spec, steps: int = STEPS, device: str = "cpu") -> dict:
    impl = frameworks.get(framework)
    trainer, data = make_trainer(framework, spec, device)
    t = spec.train
    b = t.batch_size
    order = batch_order(t.seed, 0, len(data.train_y))
    rng = augment_rng(t.seed, 0)
    batches = [order[(i * b) % (len(order) - b):][:b] for i in range(steps + 3)]
    y_all = trainer.labels(data.train_y)

    def harness_step(idx):
        x = trainer.preprocess(trainer.upload(shift(data.train_x[idx], rng, t.max_shift)))
        return trainer.train_step(x, trainer.take(y_all, idx), t.lr)

    for idx in batches[:3]:
        trainer.sync(harness_step(idx))
    start = time.perf_counter()
    for idx in batches[3:]:
        loss = harness_step(idx)
    trainer.sync(loss)
    harness = (time.perf_counter() - start) / steps

    start = time.perf_counter()
    for idx in batches[3:]:
        trainer.preprocess(trainer.upload(data.train_x[idx]))
    trainer.sync()
    prep = (time.perf_counter() - start) / steps

    bare = impl.bare_step_seconds(spec, b, steps, device)
    return {"framework": framework, "pipeline": spec.name, "batch_size": b,
            "harness_samples_per_s": b / harness, "bare_samples_per_s": b / bare,
            "fidelity": bare / harness, "preprocess_samples_per_s": b / prep,
            "preprocess_over_train": harness / prep}


def add_parser(sub) -> None:
    s = sub.add_parser(
        "calibrate", help="measure harness overhead against a bare training loop (fidelity)",
        description="For each framework and pipeline, time the project's training steps and a bare loop "
                    "of the identical model on synthetic tensors, side by side, and print the ratio "
                    "(fidelity, 1.0 = no overhead) and how much faster preprocessing runs than training.")
    s.add_argument("pipeline", nargs="*", help="pipeline name(s) (default: all)")
    s.add_argument("--framework", nargs="+", default=list(frameworks.FRAMEWORKS), metavar="FW")
    s.add_argument("--steps", type=int, default=STEPS, help=f"timed steps per loop (default {STEPS})")
    s.set_defaults(func=cmd_calibrate)


def cmd_calibrate(args) -> int:
    specs = [get_pipeline(n) for n in args.pipeline] if args.pipeline else list(PIPELINES.values())
    for fw in args.framework:
        frameworks.check_name(fw)
    print(f"{'framework':10s} {'pipeline':16s} {'harness/s':>10s} {'bare/s':>9s} {'fidelity':>8s} "
          f"{'prep/s':>9s} {'prep/train':>10s}")
    for spec in specs:
        for fw in args.framework:
            if not frameworks.installed(fw):
                print(f"{fw:10s} {spec.name:16s} not measured ({fw} missing)")
                continue
            r = measure(fw, spec, args.steps)
            print(f"{fw:10s} {spec.name:16s} {r['harness_samples_per_s']:10.0f} {r['bare_samples_per_s']:9.0f} "
                  f"{r['fidelity']:8.2f} {r['preprocess_samples_per_s']:9.0f} {r['preprocess_over_train']:10.1f}",
                  flush=True)
    print("samples/s; fidelity = harness / bare throughput; prep/train = preprocessing / training throughput",
          file=sys.stderr)
    return 0
