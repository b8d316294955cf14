"""The one training loop, shared by both frameworks.

Both frameworks receive the same numpy arrays, the same seeded batch order and the same
learning rate at every step, so any difference in the results comes from the framework.
"""

from __future__ import annotations

import sys
import time

import numpy as np

from . import frameworks
from .augment import shift
from .spec import PipelineSpec, with_overrides


def batch_order(seed: int, epoch: int, n: int) -> np.ndarray:
    """The sample order of one epoch: one seeded permutation, the same for every framework."""
    return np.random.default_rng([seed, epoch]).permutation(n)


def make_trainer(framework: str, spec: PipelineSpec, device: str = "cpu", mode: str = "default",
                 precision: str = "fp32", weights=None, group=None):
    """A framework's Trainer for ``spec``, with the dataset's codebook where it needs one."""
    from . import data

    impl = frameworks.get(framework)
    prepared = data.load(spec.dataset.name)
    prepared.check(spec)  # the data's classes and shape are the spec's (a stale cache is an error, not a crash)
    codebook = prepared.codebook(spec) if spec.codebook is not None else None
    return impl.Trainer(spec, device=device, mode=mode, precision=precision,
                        codebook=codebook, weights=weights, group=group), prepared


def shard(idx: np.ndarray, group) -> np.ndarray:
    """This worker's part of a global batch (``group``: a ``tokfrag.workers.Group``, None for one
    worker): contiguous, disjoint, in the batch's order."""
    if group is None or group.size == 1:
        return idx
    if len(idx) % group.size:
        from .errors import UsageError

        raise UsageError(f"a batch of {len(idx)} samples cannot be split into {group.size} equal shards (the "
                         "engines average the workers' gradients, equal only for equal shards): choose a number "
                         "of workers that divides the batch size")
    k = len(idx) // group.size
    return idx[group.rank * k:(group.rank + 1) * k]


def evaluate(trainer, samples: np.ndarray, labels: np.ndarray, batch_size: int) -> float:
    """Test accuracy in %, preprocessing the raw samples batch by batch (bounded memory)."""
    right = 0
    for i in range(0, len(labels), batch_size):
        x = trainer.preprocess(trainer.upload(samples[i:i + batch_size]))
        right += int((np.asarray(trainer.predict(x, batch_size)) == labels[i:i + batch_size]).sum())
    return 100.0 * right / len(labels)


def augment_rng(seed: int, epoch: int) -> np.random.Generator:
    """The random shifts of one epoch: seeded, the same for every framework."""
    return np.random.default_rng([seed, epoch, 1])


def with_oom_backoff(run, spec: PipelineSpec, oom_errors: tuple, log=None):
    """Call ``run(spec)``; on an out-of-memory error halve the batch size and retry.

    As timm's benchmark.py does. Returns ``(result, spec)`` with the spec actually used, so
    the batch size that fitted is recorded with the results.
    """
    while True:
        try:
            return run(spec), spec
        except oom_errors as e:
            b = spec.train.batch_size
            if b <= 1:
                raise
            (log or (lambda m: print(m, file=sys.stderr, flush=True)))(
                f"{spec.name}: out of memory at batch size {b} ({type(e).__name__}); retrying with {b // 2}")
            spec = with_overrides(spec, batch_size=b // 2)


def train(framework: str, spec: PipelineSpec, device: str = "cpu", mode: str = "default",
          precision: str = "fp32", progress: bool | None = None) -> dict:
    """Train ``spec`` for its budget (see ``train_once``), halving the batch on out-of-memory. On
    several workers: ``tokfrag.workers.train``."""
    impl = frameworks.get(framework)
    result, used = with_oom_backoff(
        lambda s: train_once(framework, s, device, mode, precision, progress), spec, impl.OOM_ERRORS)
    result["batch_size"] = used.train.batch_size
    return result


def train_once(framework: str, spec: PipelineSpec, device: str = "cpu", mode: str = "default",
               precision: str = "fp32", progress: bool | None = None, group=None) -> dict:
    """Train ``spec`` for its budget and evaluate along the way (``TrainConfig.eval_steps``: after every
    epoch, or at evenly spaced steps).

    Every batch is shifted (``TrainConfig.max_shift``) in numpy, then uploaded and
    preprocessed by the framework inside the timed loop: the throughput is that of the whole
    input pipeline plus the step. Returns the final test accuracy (%), the training time
    (evaluation excluded), the throughput, the training time at which the test accuracy first
    reached the dataset's target (None if it never did), and the learning curve: test accuracy and
    loss at each evaluation with the steps, samples, training seconds and training FLOPs so far.
    """
    from .flops import train_per_sample
    from .params import count

    reset_peak_rss()
    trainer, prepared = make_trainer(framework, spec, device, mode, precision, group=group)
    lead = group is None or group.rank == 0  # the worker that evaluates and reports
    t = spec.train
    train_x, train_y = prepared.training_split(t.data_scale, t.seed)
    y_train = trainer.labels(train_y)
    n = len(train_y)
    b = min(t.batch_size, n)
    steps = t.steps_per_epoch(n)
    total = t.total_steps(n)
    evals = set(t.eval_steps(n))
    flops_per_sample = train_per_sample(spec)
    if progress is None:
        progress = sys.stderr.isatty()
    from tqdm.auto import tqdm

    bar = tqdm(total=total, desc=f"{framework} {spec.name}", unit="step", disable=not progress, file=sys.stderr)
    train_seconds, time_to_target, curve, step, epoch = 0.0, None, [], 0, 0
    while step < total:
        order = batch_order(t.seed, epoch, n)
        rng = augment_rng(t.seed, epoch)
        start = time.perf_counter()
        loss = None
        for i in range(min(steps, total - step)):
            idx = order[i * b:(i + 1) * b]
            shifted = shift(train_x[idx], rng, t.max_shift)  # the global batch's draws, as one worker
            mine = shard(np.arange(len(idx)), group)  # this worker's part of it
            xb = trainer.preprocess(trainer.upload(shifted[mine]))
            loss = trainer.train_step(xb, trainer.take(y_train, idx[mine]), t.lr_at(step, total))
            step += 1
            bar.update()
            if step not in evals:
                continue
            last_loss = trainer.sync(trainer.global_loss(loss))  # synchronise before the clock stops
            train_seconds += time.perf_counter() - start
            if lead:
                acc = evaluate(trainer, prepared.test_x, prepared.test_y, t.eval_batch_size)
                curve.append({"epoch": round(step / steps, 4), "step": step, "samples": step * b,
                              "train_seconds": train_seconds, "train_flops": step * b * flops_per_sample,
                              "accuracy": acc, "train_loss": last_loss})
                bar.set_postfix(acc=f"{acc:.1f}%", loss=f"{last_loss:.3f}")
                if time_to_target is None and acc >= spec.dataset.target_accuracy:
                    time_to_target = train_seconds
            start = time.perf_counter()
        if step not in evals:  # an epoch that ends between evaluations: its time counts up to here
            trainer.sync(trainer.global_loss(loss))
            train_seconds += time.perf_counter() - start
        epoch += 1
    bar.close()
    if not lead:
        return {"framework": framework, "pipeline": spec.name, "rank": group.rank, "train_seconds": train_seconds}
    return {
        "framework": framework, "pipeline": spec.name, "device": device, "mode": mode, "precision": precision,
        "workers": 1 if group is None else group.size,
        "accuracy": curve[-1]["accuracy"],
        "train_seconds": train_seconds,
        "samples_per_second": total * b / train_seconds,
        "time_to_target": time_to_target,
        "peak_rss": peak_rss(),
        "seed": t.seed, "scale": spec.scale or "", "n_train": n, "steps": total, "params": count(spec),
        "train_flops": total * b * flops_per_sample,
        "curve": curve,
    }


def reset_peak_rss() -> bool:
    """Start a new peak-memory window (Linux: ``/proc/self/clear_refs`` 5 resets VmHWM), so that a
    run trained after another in one process reports its own peak. False where unsupported."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


def peak_rss() -> int:
    """Peak resident memory of this process since ``reset_peak_rss`` (else since it started), in
    bytes: VmHWM on Linux, ru_maxrss (what asv's peakmem_ reports) elsewhere."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024  # kB
    except OSError:
        pass
    import resource

    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return int(rss if sys.platform == "darwin" else rss * 1024)  # bytes on macOS, KiB on Linux
