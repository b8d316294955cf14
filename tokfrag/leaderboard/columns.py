"""The leaderboard's metric columns: which benchmark feeds each, its plausible range, its format.

A column is keyed on the benchmark's method name (``time_inference``), not its full name, so a
benchmark that moves to another class or file keeps its column. A benchmark whose method is
not listed here is ignored with a warning: add a ``Column`` to show it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from ..units import count, memory, percent, seconds


@dataclass(frozen=True)
class Column:
    key: str  # name in the csv/json export
    method: str  # benchmark method that feeds it
    label: str  # table header
    unit: str
    hint: str  # header tooltip
    lo: float  # plausible range, inclusive: a value outside it is rejected with a warning
    hi: float
    fmt: Callable[[float], str]
    higher_is_better: bool = False


TIME_LIMIT = 1e6  # seconds: no single timed call of this suite takes eleven days

COLUMNS: tuple[Column, ...] = (
    Column("accuracy", "track_accuracy", "Accuracy %", "%",
           "test accuracy after the fixed budget (mean ± sd over seeds)", 0, 100, percent, higher_is_better=True),
    Column("time_to_target", "track_time_to_target", "To target", "s",
           "training seconds until test accuracy first reached the dataset's target", 0, TIME_LIMIT, seconds),
    Column("throughput", "track_train_throughput", "Train samples/s", "samples/s",
           "training samples per second over the whole budget", 0, 1e12, count, higher_is_better=True),
    Column("train_step", "time_train_step", "Train step", "s", "one AdamW step on one batch", 0, TIME_LIMIT, seconds),
    Column("preprocess", "time_preprocess", "Preprocess", "s",
           "raw batch -> fragments or token ids, on the device", 0, TIME_LIMIT, seconds),
    Column("latency", "time_inference", "Inference", "s", "latency of one evaluation batch", 0, TIME_LIMIT, seconds),
    Column("peak_memory", "track_peak_memory", "Peak RSS", "bytes", "peak host memory of the training run",
           0, 2.0**50, memory),
    Column("device_memory", "track_peak_device_memory", "GPU mem", "bytes", "peak GPU memory while training",
           0, 2.0**50, memory),
    Column("batch_size", "track_batch_size", "Batch", "samples",
           "training batch size used (halved from the spec's on out-of-memory)", 1, 1e7, count),
    Column("mfu", "track_mfu_train", "MFU %", "%",
           "training model FLOPs utilisation: achieved / measured matmul peak of this device and precision",
           0, 100, percent, higher_is_better=True),
    Column("train_flops", "track_train_flops", "FLOP/s", "FLOP/s",
           "achieved model FLOP/s of training steps (analytic FLOPs from the spec)", 0, 1e18, count,
           higher_is_better=True),
    Column("first_step", "track_first_step", "First step", "s",
           "the very first training step: tracing and compilation included", 0, TIME_LIMIT, seconds),
)

# --- the workers axis (bench_workers.Workers): shown in each dataset's scaling table, not ranked
WORKER_THROUGHPUT = Column("group_throughput", "track_throughput", "Samples/s", "samples/s",
                           "training samples per second of the worker group (global batch / median step)",
                           0, 1e12, count, higher_is_better=True)
WORKER_EFFICIENCY = Column("scaling_efficiency", "track_scaling_efficiency", "Efficiency", "%",
                           "throughput with N workers / (N x throughput with 1)", 0, 1000, percent,
                           higher_is_better=True)
WORKER_COMMUNICATION = Column("communication_share", "track_communication_share", "Comm.", "%",
                              "share of a step not spent computing the worker's shard: all-reduce and waiting",
                              0, 100, percent)
WORKER_COLUMNS: tuple[Column, ...] = (WORKER_THROUGHPUT, WORKER_EFFICIENCY, WORKER_COMMUNICATION)

# Cross-framework equivalence (failed checks per pipeline): a badge, not a ranked number.
PARITY = Column("parity", "track_parity", "Parity", "failed checks",
                "PyTorch vs TensorFlow equivalence checks of `tokfrag parity`", 0, 1000, count)

# --- cost scaling (bench_perf.Scaling): plotted against sequence length, not ranked
SCALING_UNITS = Column("units", "track_seq_len", "Units", "units",
                       "sequence length: units per image (fragments or tokens)", 1, 1e7, count)
SCALING_STEP = Column("step_seconds", "time_train_step", "Train step", "s",
                      "one AdamW step on one batch, on the CPU", 1e-9, TIME_LIMIT, seconds)
SCALING_MEMORY = Column("peak_memory", "peakmem_train_step", "Peak RSS", "bytes",
                        "peak host memory over three training steps", 1, 2.0**50, memory)
SCALING_COLUMNS: tuple[Column, ...] = (SCALING_UNITS, SCALING_STEP, SCALING_MEMORY)
SCALING_BY_METHOD: dict[str, Column] = {c.method: c for c in SCALING_COLUMNS}
# bench_perf.Peak (device x precision): a property of the machine, shown with it (MFU's denominator)
PEAK = Column("peak", "track_peak_flops", "Matmul peak", "FLOP/s",
              "the machine's measured matmul peak per device and precision: the denominator of MFU",
              1, 1e18, count, higher_is_better=True)

# methods that fed a column in earlier versions of the suite, so that older results still show
RENAMED = {"peakmem_train": "track_peak_memory"}  # Step.peakmem_train -> Training.track_peak_memory

BY_METHOD: dict[str, Column] = {c.method: c for c in COLUMNS + WORKER_COLUMNS + (PARITY,)}
BY_METHOD.update({old: BY_METHOD[new] for old, new in RENAMED.items()})
