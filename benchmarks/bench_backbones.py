"""The backbone axis: every default pipeline under every backbone, in every framework.

Parameters: framework x pipeline x backbone x device. The transformer is the default
suite's model (its training run is shared with ``bench_pipelines`` within one session);
cnn, lstm and gnn replace its blocks and keep the same embedding and pooled head
(``tokfrag.spec.Backbone``). Not in the default run (``make bench``): 108 more training runs
than the default matrix with 3 seeds (74 min on 2 cores), about 2 h 10 min in all;
``make bench-backbones`` runs it.
"""

from __future__ import annotations

from tokfrag.backbones import DEFAULT, names
from tokfrag.names import pipeline_name as name

from . import common

BACKBONES = list(names())  # every registered backbone (tokfrag.backbones)


class Step:
    """Time of one training step and one inference batch under each backbone."""

    params = (common.FRAMEWORKS, common.PIPELINE_NAMES, BACKBONES, common.DEVICES)
    param_names = ["framework", "pipeline", "backbone", "device"]
    rounds = 1
    repeat = (3, 7, 5.0)
    warmup_time = 0.1  # the first call runs the operation to steady state (common.Context.timed)
    timeout = 300

    def setup(self, framework, pipeline, backbone, device):
        self.ctx = common.context(framework, name(pipeline, backbone), device, warm_up=device != "cpu")

    def time_train_step(self, framework, pipeline, backbone, device):
        """One AdamW step (forward, backward, update) on one preprocessed batch."""
        self.ctx.timed("train_step")

    def time_inference(self, framework, pipeline, backbone, device):
        """Logits of one evaluation batch, at steady state."""
        self.ctx.timed("inference")


class Training:
    """One full training run per combination and seed: accuracy, throughput, time to target, peak memory."""

    params = (common.FRAMEWORKS, common.PIPELINE_NAMES, BACKBONES, common.DEVICES, common.SEEDS)
    param_names = ["framework", "pipeline", "backbone", "device", "seed"]
    timeout = 1800

    def setup(self, framework, pipeline, backbone, device, seed):
        self.result = common.training_result(framework, name(pipeline, backbone), device, seed=seed)

    def track_accuracy(self, framework, pipeline, backbone, device, seed):
        """Test accuracy after the fixed training budget."""
        return self.result["accuracy"]

    track_accuracy.unit = "%"

    def track_train_throughput(self, framework, pipeline, backbone, device, seed):
        """Training samples per second over the whole budget (steps only, evaluation excluded)."""
        return self.result["samples_per_second"]

    track_train_throughput.unit = "samples/s"

    def track_time_to_target(self, framework, pipeline, backbone, device, seed):
        """Training seconds until test accuracy first reached the dataset's target (NaN: never)."""
        ttt = self.result["time_to_target"]
        return float("nan") if ttt is None else ttt

    track_time_to_target.unit = "s"

    def track_peak_memory(self, framework, pipeline, backbone, device, seed):
        """Peak host memory (RSS) of the training run's process."""
        return self.result["peak_rss"]

    track_peak_memory.unit = "bytes"


class Size:
    """Parameters of each model: the backbones of a dataset are sized within 15% of each other."""

    params = (common.PIPELINE_NAMES, BACKBONES)
    param_names = ["pipeline", "backbone"]

    def track_params(self, pipeline, backbone):
        from tokfrag import params
        from tokfrag.catalog import get_pipeline

        return params.count(get_pipeline(name(pipeline, backbone)))

    track_params.unit = "parameters"


class Parity:
    """`tokfrag parity` under each backbone (the transformer's is bench_parity.Parity)."""

    params = (common.PIPELINE_NAMES, BACKBONES)
    param_names = ["pipeline", "backbone"]
    timeout = 3600  # every pipeline under three backbones, in setup_cache
    # asv keeps a recorded value only while its version matches the suite's. By default the version
    # is a hash of the source, so moving the backbone names into the registry would have dropped
    # every committed parity value from asv's graphs although the checks are the same. Change this
    # string when what the checks measure changes (tests/test_asv.py guards the committed results).
    version = "dd043df7ddb93df18eb8713789c71856dde40489dfdf8f41f0a5162ce1b9bed8"

    def setup_cache(self):
        return common.parity_failures([name(p, b) for p in common.PIPELINE_NAMES for b in BACKBONES
                                       if b != DEFAULT])

    def setup(self, checked, pipeline, backbone):
        if "skip" in checked:
            raise NotImplementedError(checked["skip"])
        if backbone == DEFAULT:
            raise NotImplementedError("the transformer's parity is bench_parity.Parity")

    def track_parity(self, checked, pipeline, backbone):
        """Checks of `tokfrag parity` that failed for this pipeline and backbone (0: equivalent)."""
        failed = checked[name(pipeline, backbone)]
        if isinstance(failed, str):
            raise RuntimeError(f"the parity checks of {name(pipeline, backbone)} raised {failed}")
        return failed

    track_parity.unit = "failed checks"
