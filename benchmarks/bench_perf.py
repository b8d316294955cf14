"""Performance beyond the default matrix: execution modes and precisions with MFU, the
machine's matmul peak, and how cost grows with sequence length. Run by `make bench-full`.

Parameters: mode (default: PyTorch eager / TensorFlow tf.function; compiled: torch.compile /
XLA) and precision (fp32; bf16: torch autocast / Keras mixed_bfloat16).
"""

from __future__ import annotations

import dataclasses
import time

from tokfrag import flops, runs
from tokfrag.spec import MODES as ALL_MODES
from tokfrag.spec import PRECISIONS as ALL_PRECISIONS
from tokfrag.spec import Windows, get_pipeline

from . import common

MODES = list(ALL_MODES)  # asv parameters: lists
PRECISIONS = list(ALL_PRECISIONS)
STEADY_STEPS = 10


class Peak:
    """The machine's matmul peak per device and precision, the denominator of MFU."""

    params = (common.DEVICES, PRECISIONS)
    param_names = ["device", "precision"]
    timeout = 120

    def setup(self, device, precision):
        self.peak = runs.peak(device, precision)

    def track_peak_flops(self, device, precision):
        """Best FLOP/s of repeated 2048x2048 matmuls over the installed frameworks."""
        return self.peak["peak"]

    track_peak_flops.unit = "FLOP/s"


class Modes:
    """Training step speed, first-step (compile) time and MFU per mode and precision."""

    params = (common.FRAMEWORKS, common.PIPELINE_NAMES, common.DEVICES, MODES, PRECISIONS)
    param_names = ["framework", "pipeline", "device", "mode", "precision"]
    rounds = 1
    repeat = (3, 10, 10.0)
    timeout = 600

    def setup(self, framework, pipeline, device, mode, precision):
        self.ctx = common.context(framework, pipeline, device, mode, precision)

    def time_train_step(self, framework, pipeline, device, mode, precision):
        """One AdamW step on one preprocessed batch, at steady state (after compilation)."""
        self.ctx.timed("train_step")

    def track_first_step(self, framework, pipeline, device, mode, precision):
        """Seconds of the very first training step: tracing and compilation included."""
        return self.ctx.first_step_seconds

    track_first_step.unit = "s"

    def _achieved(self) -> float:
        t, ctx = self.ctx.trainer, self.ctx
        t.sync(t.train_step(ctx.x, ctx.y, ctx.lr))
        start = time.perf_counter()
        for _ in range(STEADY_STEPS):
            loss = t.train_step(ctx.x, ctx.y, ctx.lr)
        t.sync(loss)
        return flops.train_per_sample(ctx.spec) * ctx.batch_size * STEADY_STEPS / (time.perf_counter() - start)

    def track_train_flops(self, framework, pipeline, device, mode, precision):
        """Achieved model FLOP/s of training steps (analytic FLOPs, tokfrag.flops)."""
        return self._achieved()

    track_train_flops.unit = "FLOP/s"

    def track_mfu_train(self, framework, pipeline, device, mode, precision):
        """Training MFU: achieved FLOP/s / the measured matmul peak of this device and precision."""
        return flops.mfu(self._achieved(), runs.peak(device, precision)["peak"])

    track_mfu_train.unit = "%"


class Accuracy:
    """A full training run per mode and precision (trained once, read by both metrics): bf16
    and compilation must not cost accuracy. The default mode in fp32 is the default suite's
    Training run (shared when both run in one session)."""

    params = (common.FRAMEWORKS, common.PIPELINE_NAMES, common.DEVICES, MODES, PRECISIONS)
    param_names = ["framework", "pipeline", "device", "mode", "precision"]
    timeout = 2400

    def setup(self, framework, pipeline, device, mode, precision):
        self.result = common.training_result(framework, pipeline, device, mode, precision)

    def track_accuracy(self, framework, pipeline, device, mode, precision):
        """Test accuracy after the fixed training budget, in this mode and precision."""
        return self.result["accuracy"]

    track_accuracy.unit = "%"

    def track_train_throughput(self, framework, pipeline, device, mode, precision):
        """Training samples per second over the whole budget, in this mode and precision."""
        return self.result["samples_per_second"]

    track_train_throughput.unit = "samples/s"


class Scaling:
    """Cost against sequence length: MNIST cut into windows of 2, 4, 7 and 14 pixels
    (196, 49, 16 and 4 units). Attention grows with the square of the length; the
    fragment projection with the window size."""

    params = (common.FRAMEWORKS, ["fragment", "token"], [2, 4, 7, 14])
    param_names = ["framework", "representation", "window"]
    rounds = 1
    repeat = (3, 10, 10.0)
    timeout = 600

    def setup(self, framework, representation, window):
        base = get_pipeline(f"mnist/{representation}")
        spec = dataclasses.replace(base, windows=Windows((window, window), (window, window)))
        self.ctx = common.context(framework, f"mnist/{representation}", "cpu", spec=spec)

    def time_train_step(self, framework, representation, window):
        self.ctx.timed("train_step")

    def peakmem_train_step(self, framework, representation, window):
        t = self.ctx.trainer
        for _ in range(3):
            t.sync(t.train_step(self.ctx.x, self.ctx.y, self.ctx.lr))

    def track_seq_len(self, framework, representation, window):
        return self.ctx.spec.seq_len

    track_seq_len.unit = "units"
