"""Data-parallel scaling: every default pipeline on 1 and 2 workers (PyTorch DDP, TensorFlow
MultiWorkerMirroredStrategy; ``tokfrag.workers``). Run by `make bench-workers`.

Each combination starts its worker group itself (``tokfrag.workers.launch``: one process per
worker with ``cores // workers`` threads, so one each on 2 cores) and stops it; the 1-worker
figure is the same job in one process with all the cores. On a GPU the group needs one GPU per
worker (skipped otherwise).
"""

from __future__ import annotations

from tokfrag import frameworks, runs

from . import common

WORKERS = [1, 2]


class Workers:
    """Training steps on N workers: throughput, scaling efficiency, communication share."""

    params = (common.FRAMEWORKS, common.PIPELINE_NAMES, common.DEVICES, WORKERS)
    param_names = ["framework", "pipeline", "device", "workers"]
    timeout = 900

    def setup(self, framework, pipeline, device, workers):
        common.check_runnable(framework, device)
        if device == "gpu" and workers > 1:
            gpus = frameworks.gpu_count()
            if gpus < workers:
                raise frameworks.DeviceUnavailable(f"{workers} workers need {workers} GPUs; this machine has {gpus}")
        self.spec = common.spec_for(pipeline)
        self.result = runs.workers(framework, self.spec, device, workers)

    def track_throughput(self, framework, pipeline, device, workers):
        """Training samples per second of the group: the global batch over the median step time."""
        return self.result["samples_per_second"]

    track_throughput.unit = "samples/s"

    def track_scaling_efficiency(self, framework, pipeline, device, workers):
        """Throughput with N workers / (N x throughput with 1), in %: 100% is perfect scaling."""
        one = runs.workers(framework, self.spec, device, 1)
        return 100.0 * self.result["samples_per_second"] / (workers * one["samples_per_second"])

    track_scaling_efficiency.unit = "%"

    def track_communication_share(self, framework, pipeline, device, workers):
        """Share of a step not spent computing this worker's shard, in %: 1 - (the shard's step on this
        worker alone) / (the group's step), i.e. the all-reduce and the wait for the other workers."""
        return 100.0 * self.result["communication_share"]

    track_communication_share.unit = "%"
