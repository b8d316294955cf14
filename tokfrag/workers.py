"""Data-parallel training on several workers, with the engines users run: PyTorch
``DistributedDataParallel`` (``torch.distributed``: gloo on CPU, NCCL on GPU) and TensorFlow's
``MultiWorkerMirroredStrategy`` (``tf.distribute``, configured by ``TF_CONFIG``).

With N workers, each global batch (the spec's batch size, from the same seeded order as one
worker) is split into N contiguous, disjoint shards (``shard``: rank r takes samples r*b/N to
(r+1)*b/N), and each worker uploads and preprocesses only its own shard. The engine averages
the gradients: DDP's all-reduce divides the sum of the workers' gradients by N; TensorFlow's
optimizer sums the replicas' gradients of a loss each worker scales by 1 / global batch (as
``tf.nn.compute_average_loss`` does). Both give the gradient of the mean loss over the global
batch, which is what one worker computes: N workers follow the 1-worker trajectory.

Launching: ``launch`` starts the workers itself, on this machine, each a ``python -m
tokfrag.workers`` process with the environment that ``torchrun`` sets (``RANK``,
``WORLD_SIZE``, ``LOCAL_RANK``, ``MASTER_ADDR``, ``MASTER_PORT``) and a ``TF_CONFIG`` (a
cluster of N workers on free local ports), and stops them on every exit path. Users with
several GPUs or machines start the same module with their own launcher (``torchrun``, or one
process per machine with its ``TF_CONFIG``); ``from_env`` reads either. See the README.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from . import config
from .errors import UsageError
from .training import shard

__all__ = ["Group", "WorkerError", "from_env", "join", "launch", "main", "shard", "step_times", "train", "trajectory"]

MASTER_ADDR = "127.0.0.1"  # launch(): every worker on this machine


class WorkerError(RuntimeError):
    """A worker failed or hung: the message names it and ends with its last lines of output."""


@dataclass(frozen=True)
class Group:
    """This process's place among the workers, and the framework's handle on them (TensorFlow's
    strategy; PyTorch keeps its process group in ``torch.distributed`` itself)."""

    rank: int
    size: int
    local_rank: int = 0
    handle: object = None


def from_env(framework: str) -> tuple[int, int, int] | None:
    """(rank, size, local rank) from the launcher's environment, or None when there is none:
    torchrun's ``RANK`` / ``WORLD_SIZE`` / ``LOCAL_RANK`` for PyTorch, ``TF_CONFIG`` for TensorFlow."""
    if framework == "tensorflow":
        raw = os.environ.get("TF_CONFIG")
        if not raw:
            return None
        try:
            conf = json.loads(raw)
            workers = conf["cluster"]["worker"]
            rank = int(conf["task"]["index"])
        except (ValueError, KeyError, TypeError) as e:
            raise UsageError(f"TF_CONFIG is not a cluster of workers with this task's index ({e}): "
                             '{"cluster": {"worker": ["host:port", ...]}, '
                             '"task": {"type": "worker", "index": I}}') from None
        return rank, len(workers), int(os.environ.get("LOCAL_RANK", 0))
    if "RANK" not in os.environ or "WORLD_SIZE" not in os.environ:
        return None
    return int(os.environ["RANK"]), int(os.environ["WORLD_SIZE"]), int(os.environ.get("LOCAL_RANK", 0))


def join(framework: str, device: str = "cpu") -> Group | None:
    """Join the worker group the environment describes (None: a single process, or a group of one). For TensorFlow
    this must come before any TensorFlow operation runs (the strategy configures the runtime)."""
    from . import frameworks

    place = from_env(framework)
    if place is None or place[1] == 1:
        return None  # one worker: the single-process path, no engine to join
    rank, size, local = place
    handle = frameworks.get(framework).join_workers(rank, size, local, device)
    return Group(rank, size, local, handle)


def free_ports(n: int) -> list[int]:
    """``n`` distinct TCP ports free on this machine now."""
    socks = []
    try:
        for _ in range(n):
            s = socket.socket()
            s.bind((MASTER_ADDR, 0))
            socks.append(s)
        return [s.getsockname()[1] for s in socks]
    finally:
        for s in socks:
            s.close()


def worker_env(rank: int, size: int, ports: list[int], threads: int, device: str, base: dict | None = None) -> dict:
    """The environment of worker ``rank``: torchrun's variables and a TF_CONFIG, both describing
    ``size`` workers on this machine (``ports[0]``: torch's rendezvous; ``ports[1:]``: TF's workers)."""
    env = dict(os.environ if base is None else base)
    env.update(RANK=str(rank), WORLD_SIZE=str(size), LOCAL_RANK=str(rank), LOCAL_WORLD_SIZE=str(size),
               MASTER_ADDR=MASTER_ADDR, MASTER_PORT=str(ports[0]), PYTHONUNBUFFERED="1",
               TF_CONFIG=json.dumps({"cluster": {"worker": [f"{MASTER_ADDR}:{p}" for p in ports[1:]]},
                                     "task": {"type": "worker", "index": rank}}))
    config.THREADS.set(threads, env)
    if device == "gpu":
        env["CUDA_VISIBLE_DEVICES"] = str(rank)  # one GPU per worker process, as torchrun users set it
        env["LOCAL_RANK"] = "0"  # ... so each sees its GPU as device 0
    return env


def _tail(path: Path, lines: int = 25) -> str:
    try:
        text = path.read_text(errors="replace").strip().splitlines()
    except OSError:
        return "(no output)"
    return "\n".join(text[-lines:]) or "(no output)"


def _stop(procs: list[subprocess.Popen]) -> None:
    """Terminate every worker still running (its whole process group), then kill what is left."""
    for p in procs:
        if p.poll() is None:
            try:
                os.killpg(p.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
    deadline = time.monotonic() + 10
    for p in procs:
        try:
            p.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            try:
                os.killpg(p.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            p.wait()


def launch(job: dict, size: int, timeout: float = 3600.0, threads: int | None = None) -> list[dict]:
    """Run ``job`` (see ``run_job``) on ``size`` worker processes of this machine and return each
    worker's output, in rank order. Every worker is stopped on every exit path (an error, a
    timeout, Ctrl-C); a worker that fails raises WorkerError naming it, with its last output."""
    from .frameworks import threads as cores

    if size < 1:
        raise UsageError(f"--workers {size}: at least 1")
    threads = threads or max(1, cores() // size)
    ports = free_ports(size + 1)
    work = Path(tempfile.mkdtemp(prefix="tokfrag-workers-"))
    procs: list[subprocess.Popen] = []
    what = f"{job['framework']} {job['pipeline']} ({job['kind']})"
    try:
        for rank in range(size):
            log = open(work / f"worker-{rank}.log", "w")
            procs.append(subprocess.Popen(
                [sys.executable, "-m", "tokfrag.workers", *job_args(job), "--out", str(work / f"worker-{rank}.json")],
                env=worker_env(rank, size, ports, threads, job.get("device", "cpu")),
                stdout=log, stderr=subprocess.STDOUT, start_new_session=True))
            log.close()
        deadline = time.monotonic() + timeout
        while True:
            codes = [p.poll() for p in procs]
            failed = [r for r, c in enumerate(codes) if c not in (None, 0)]
            if failed:
                r = failed[0]
                raise WorkerError(f"worker {r} of {size} failed (exit {codes[r]}) on {what}; its last output:\n"
                                  f"{_tail(work / f'worker-{r}.log')}")
            if all(c == 0 for c in codes):
                break
            if time.monotonic() > deadline:
                running = [r for r, c in enumerate(codes) if c is None]
                last = _tail(work / f"worker-{running[0]}.log")
                raise WorkerError(f"workers {running} of {size} still running after {timeout:.0f} s on {what}: "
                                  f"stopped; worker {running[0]}'s last output:\n{last}")
            time.sleep(0.05)
        return [json.loads((work / f"worker-{r}.json").read_text()) for r in range(size)]
    finally:
        _stop(procs)
        shutil.rmtree(work, ignore_errors=True)


def train(framework: str, spec, device: str = "cpu", mode: str = "default", precision: str = "fp32",
          workers: int = 2) -> dict:
    """``tokfrag.training.train`` on ``workers`` data-parallel worker processes of this machine, each a
    shard of every batch; the result is worker 0's (it evaluates)."""
    job = {"kind": "train", "framework": framework, "pipeline": spec.name, "device": device, "mode": mode,
           "precision": precision, "epochs": spec.train.epochs, "seed": spec.train.seed}
    result = launch(job, workers)[0]
    result["batch_size"] = spec.train.batch_size
    return result


# --- what a worker runs -------------------------------------------------------------------

def trajectory(framework: str, spec, steps: int, group: Group | None = None) -> dict:
    """``steps`` AdamW steps from the spec's seeded initial weights on the parity check's batches
    (``tokfrag.parity``: the seeded order, the numpy reference's preprocessing), this worker's
    shard of each: the loss over the global batch at each step, and (rank 0) the final weights."""
    from . import data, frameworks, reference
    from .training import batch_order

    impl = frameworks.get(framework)
    prepared = data.load(spec.dataset.name)
    prepared.check(spec)
    codebook = prepared.codebook(spec) if spec.codebook is not None else None
    trainer = impl.Trainer(spec, codebook=codebook, group=group)
    t = spec.train
    y_all = prepared.train_y
    order = batch_order(t.seed, 0, len(y_all))
    total = t.total_steps(len(y_all))
    losses = []
    for step in range(steps):
        idx = shard(order[(step * t.batch_size) % len(y_all):][: t.batch_size], group)
        x = reference.preprocess(spec, prepared.train_x[idx], codebook)
        x = trainer.tensor(x if spec.representation == "token" else x.astype(np.float32))
        loss = trainer.train_step(x, trainer.labels(y_all[idx]), t.lr_at(step, total))
        losses.append(trainer.sync(trainer.global_loss(loss)))
    out = {"rank": 0 if group is None else group.rank, "losses": losses}
    if group is None or group.rank == 0:
        out["weights"] = {n: v.tolist() for n, v in trainer.parameters().items()}
    return out


WARM_STEPS, TIMED_STEPS, ROUNDS = 10, 20, 3  # step_times: the same counts on every worker (lockstep)


def step_times(framework: str, spec, device: str = "cpu", group: Group | None = None,
               steps: int = TIMED_STEPS, rounds: int = ROUNDS) -> dict:
    """Seconds per training step of this worker group on this worker's shard of one global batch,
    the engine's all-reduce included, and of the same shard stepped by a trainer of this process
    alone (same threads, no other worker): the difference is the communication, the all-reduce
    and the wait for the other workers. Medians of ``rounds`` runs of ``steps`` steps, after
    ``WARM_STEPS`` (fixed counts: the workers step in lockstep). Worker 0's figures are reported."""
    import statistics

    from .training import batch_order, make_trainer

    trainer, prepared = make_trainer(framework, spec, device, group=group)
    alone, _ = make_trainer(framework, spec, device) if group is not None else (trainer, prepared)
    t = spec.train
    idx = shard(batch_order(t.seed, 0, len(prepared.train_y))[: t.batch_size], group)

    def timer(tr):
        x, y = tr.preprocess(tr.upload(prepared.train_x[idx])), tr.labels(prepared.train_y[idx])

        def run(n):
            start = time.perf_counter()
            for _ in range(n):
                loss = tr.train_step(x, y, t.lr)
            tr.sync(loss)
            return (time.perf_counter() - start) / n
        return run

    together, single = timer(trainer), timer(alone)
    together(WARM_STEPS)
    step = statistics.median(together(steps) for _ in range(rounds))
    local = step
    if group is not None:
        single(WARM_STEPS)
        local = statistics.median(single(steps) for _ in range(rounds))
    size = 1 if group is None else group.size
    return {"workers": size, "batch_size": t.batch_size, "step_seconds": step, "local_step_seconds": local,
            "samples_per_second": t.batch_size / step, "communication_share": max(0.0, 1.0 - local / step)}


def run_job(job: dict, group: Group | None) -> dict:
    """One worker's part of ``job``: ``{"kind": "train" | "time" | "trajectory", "framework", "pipeline", ...}``."""
    from .catalog import get_pipeline
    from .spec import with_overrides

    spec = get_pipeline(job["pipeline"])
    overrides = {k: job[k] for k in ("epochs", "seed") if job.get(k) is not None}
    if overrides:
        spec = with_overrides(spec, **overrides)
    if job["kind"] == "trajectory":
        return trajectory(job["framework"], spec, int(job["steps"]), group)
    if job["kind"] == "time":
        return step_times(job["framework"], spec, job.get("device", "cpu"), group)
    if job["kind"] == "train":
        from .training import train_once

        return train_once(job["framework"], spec, job.get("device", "cpu"), job.get("mode", "default"),
                          job.get("precision", "fp32"), progress=False, group=group)
    raise ValueError(f"unknown job kind {job['kind']!r}")


KINDS = ("train", "time", "trajectory")


def job_args(job: dict) -> list[str]:
    """``job`` as the command line of ``python -m tokfrag.workers``."""
    argv = [job["kind"], job["pipeline"], "--framework", job["framework"]]
    for key in ("device", "mode", "precision", "epochs", "seed", "steps"):
        if job.get(key) is not None:
            argv += [f"--{key}", str(job[key])]
    return argv


def parser():
    import argparse

    p = argparse.ArgumentParser(
        prog="python -m tokfrag.workers",
        description="One data-parallel worker of tokfrag: joins the group its launcher describes (torchrun's RANK, "
                    "WORLD_SIZE, LOCAL_RANK, MASTER_ADDR, MASTER_PORT for PyTorch; TF_CONFIG for TensorFlow), runs "
                    "its shard of the job, and (worker 0, or every worker with --out) writes the result as JSON. "
                    "`tokfrag train --workers N` starts N of these on this machine; see the README for torchrun "
                    "and TF_CONFIG launches on several GPUs or machines.")
    p.add_argument("kind", choices=KINDS, help="train: the full budget (worker 0 evaluates); time: step times and "
                                               "communication share; trajectory: 20 parity steps")
    p.add_argument("pipeline", help="pipeline name, e.g. mnist/fragment")
    p.add_argument("--framework", required=True, choices=["pytorch", "tensorflow"])
    p.add_argument("--device", default="cpu", choices=["cpu", "gpu"])
    p.add_argument("--mode", default="default")
    p.add_argument("--precision", default="fp32")
    p.add_argument("--epochs", type=int)
    p.add_argument("--seed", type=int)
    p.add_argument("--steps", type=int, default=20, help="trajectory: steps (default 20)")
    p.add_argument("--out", metavar="FILE", help="write this worker's result here (default: worker 0 prints it)")
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    job = {k: v for k, v in vars(args).items() if k != "out"}
    group = join(args.framework, args.device)
    try:
        out = run_job(job, group)
    finally:
        if group is not None:
            from . import frameworks

            frameworks.get(args.framework).leave_workers(group)
    text = json.dumps(out)
    if args.out:
        tmp = Path(args.out + ".part")
        tmp.write_text(text)
        tmp.replace(args.out)
    elif group is None or group.rank == 0:
        print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
