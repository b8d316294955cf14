"""Every registered pipeline, in every framework, on every device: speed, memory, accuracy.

Parameters: framework x pipeline x device, and the training seed for the metrics of a training
run. A missing framework or device skips its combinations (setup raises NotImplementedError,
which asv records as skipped). Every timed operation starts from steady state
(``common.Context.timed``).
"""

from __future__ import annotations

from tokfrag import steady

from . import common


class Step:
    """Time of one preprocessing batch, one training step and one inference batch."""

    params = (common.FRAMEWORKS, common.PIPELINE_NAMES, common.DEVICES)
    param_names = ["framework", "pipeline", "device"]
    rounds = 1
    # 10 to 200 samples within 4 s (one call each): the speed intervals and the spread flag, over a
    # window long enough that one of TensorFlow's 1-2 s slow episodes does not move the median
    repeat = (steady.MIN_SAMPLES, steady.MAX_SAMPLES, steady.WINDOW)
    warmup_time = 0.1  # the first call already runs the operation to steady state (Context.timed)
    timeout = 300

    def setup(self, framework, pipeline, device):
        # on a GPU, warm up here: a training step that runs out of memory halves the batch first
        self.ctx = common.context(framework, pipeline, device, warm_up=device != "cpu")

    def time_preprocess(self, framework, pipeline, device):
        """uint8 samples of one training batch -> fragments or token ids, on the device."""
        self.ctx.timed("preprocess")

    def time_train_step(self, framework, pipeline, device):
        """One AdamW step (forward, backward, update) on one preprocessed batch."""
        self.ctx.timed("train_step")

    def time_inference(self, framework, pipeline, device):
        """Logits of one evaluation batch (eval_batch_size samples), at steady state."""
        self.ctx.timed("inference")


class Training:
    """Results of one full training run per combination and seed (trained once, read by each metric).

    ``seed`` (0 .. N-1, N = $TOKFRAG_SEEDS, default 3) drives the initial weights, the batch order
    and the augmentation shifts of both frameworks; the leaderboard and the gate pair runs by it."""

    params = (common.FRAMEWORKS, common.PIPELINE_NAMES, common.DEVICES, common.SEEDS)
    param_names = ["framework", "pipeline", "device", "seed"]
    timeout = 1200

    def setup(self, framework, pipeline, device, seed):
        self.result = common.training_result(framework, pipeline, device, seed=seed)

    def track_accuracy(self, framework, pipeline, device, seed):
        """Test accuracy after the fixed training budget."""
        return self.result["accuracy"]

    track_accuracy.unit = "%"

    def track_train_throughput(self, framework, pipeline, device, seed):
        """Training samples per second over the whole budget (steps only, evaluation excluded)."""
        return self.result["samples_per_second"]

    track_train_throughput.unit = "samples/s"

    def track_time_to_target(self, framework, pipeline, device, seed):
        """Training seconds until test accuracy first reached the dataset's target (NaN: never)."""
        ttt = self.result["time_to_target"]
        return float("nan") if ttt is None else ttt

    track_time_to_target.unit = "s"

    def track_batch_size(self, framework, pipeline, device, seed):
        """The training batch size actually used (halved from the spec's on out-of-memory)."""
        return self.result["batch_size"]

    track_batch_size.unit = "samples"

    def track_peak_memory(self, framework, pipeline, device, seed):
        """Peak host memory (RSS) of the training run: data, model, steps, evaluation (the process's
        high-water mark, reset when the run starts; asv's peakmem_ would spawn one more process)."""
        return self.result["peak_rss"]

    track_peak_memory.unit = "bytes"


class DeviceMemory:
    """Peak GPU memory of training, in bytes (asv's peakmem_ sees host RSS only)."""

    params = (common.FRAMEWORKS, common.PIPELINE_NAMES, common.DEVICES)
    param_names = ["framework", "pipeline", "device"]
    timeout = 300

    def setup(self, framework, pipeline, device):
        if device == "cpu":
            raise NotImplementedError("device memory is for the gpu device; host memory: Training.track_peak_memory")
        self.ctx = common.context(framework, pipeline, device)

    def track_peak_device_memory(self, framework, pipeline, device):
        """torch.cuda.max_memory_allocated / TensorFlow's peak memory info, over 3 training steps."""
        t = self.ctx.trainer
        t.reset_peak_memory()
        for _ in range(3):
            t.sync(t.train_step(self.ctx.x, self.ctx.y, self.ctx.lr))
        return t.peak_memory()

    track_peak_device_memory.unit = "bytes"
