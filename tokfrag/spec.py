"""The framework-neutral specification of every tokfrag pipeline.

Nothing here imports torch or tensorflow: both implementations expand these dataclasses
into their own constructors, so a hyperparameter lives in exactly one place.

A pipeline is named ``<dataset>/<representation>``:

* ``fragment``: the signal is cut into fixed windows, each window is flattened and
  projected linearly (ViT patches, ViViT tubelets, MEGABYTE byte patches);
* ``token``: each window is replaced by the id of its nearest k-means centroid (ImageGPT's
  palette) and the id is looked up in an embedding table.

Both representations cut the signal into the *same* windows and feed the *same* encoder,
so any difference in the results comes from the representation alone.
"""

from __future__ import annotations

import dataclasses
import functools
import math
from dataclasses import dataclass, field, replace

from . import backbones
from .errors import UnknownName
from .names import PipelineName

REPRESENTATIONS = ("fragment", "token")
# How a framework runs the same network: "compiled" is torch.compile / XLA (jit_compile).
MODES = ("default", "compiled")
# "bf16": matmuls in bfloat16, weights and optimizer state in float32 (autocast / mixed_bfloat16).
PRECISIONS = ("fp32", "bf16")
# Raw samples -> model input, by dataset kind and representation (PipelineSpec.preprocessing):
# the name of the function in tokfrag.reference and in each implementations/<fw>/preprocess.py.
PREPROCESSINGS = ("fragments", "tokens", "byte_fragments", "word_ids")


@dataclass(frozen=True)
class EncoderConfig:
    """A pre-norm Transformer encoder (ViT block layout), mean-pooled into a linear head."""

    width: int = 64  # small enough to train the MNIST matrix in minutes on 2 CPU cores
    depth: int = 4  # 4 blocks: the smallest depth that reached the accuracy targets here
    heads: int = 4  # head dim 16, the usual 16-64 range at this width
    mlp_ratio: float = 2.0  # 4.0 (ViT) doubles the cost for no gain at this data size
    norm_eps: float = 1e-6  # set explicitly: Keras defaults to 1e-3 and torch to 1e-5

    def __post_init__(self):
        if self.width % self.heads:
            raise ValueError(f"width {self.width} is not divisible by heads {self.heads}")

    @property
    def mlp_hidden(self) -> int:
        return int(self.width * self.mlp_ratio)


@dataclass(frozen=True)
class Backbone:
    """What mixes the embedded units, between the shared embedding and the shared pooled head: a
    backbone registered in ``tokfrag.backbones`` (what each one is, how it reads the units, its
    parameters and FLOPs), at a depth and kernel ``sized`` for the pipeline's unit grid."""

    name: str = backbones.DEFAULT
    depth: int = 4  # blocks or stacked layers; a backbone sized with depth None uses EncoderConfig.depth
    kernel: tuple = ()  # along each axis of the unit grid, for a backbone that has one (cnn)

    def __post_init__(self):
        entry = backbones.get(self.name)  # UnknownName listing the registered backbones
        if entry.has_kernel(len(self.kernel) or 1) != bool(self.kernel):
            raise ValueError(f"backbone {self.name!r} " + ("needs a kernel" if self.kernel == () else "has no kernel"))


TRANSFORMER = Backbone()


def sized(name: str, grid_rank: int) -> Backbone:
    """The backbone ``name`` sized for a unit grid of ``grid_rank`` axes (width 64): the entry's
    ``size`` (``tokfrag.backbones``, where the parameter counts are)."""
    depth, kernel = backbones.get(name).size(grid_rank)
    return Backbone(name, depth=4 if depth is None else depth, kernel=kernel)


@dataclass(frozen=True)
class TrainConfig:
    """AdamW with linear warm-up and cosine decay, for a budget counted in epochs."""

    optimizer: str = "adamw"  # the only optimizer both frameworks implement identically
    lr: float = 2e-3  # peak rate; small transformers on small data tolerate a high rate
    weight_decay: float = 0.05  # applied to matrices only (ndim >= 2), as in timm and ViT
    betas: tuple = (0.9, 0.999)  # the AdamW paper's defaults, spelled out for both sides
    eps: float = 1e-8  # torch's default; Keras would otherwise use 1e-7
    batch_size: int = 64  # on 4,000 digits, the number of steps limits accuracy more than batch size
    epochs: int = 20  # the budget; each dataset sets its own below
    warmup_frac: float = 0.05  # 5% of the steps warm the rate up linearly from zero
    max_shift: int = 2  # random translation (cells): +3 points of MNIST test accuracy on 4,000 digits
    seed: int = 0  # one seed drives the initial weights, batch order and shifts of both frameworks
    eval_batch_size: int = 500  # evaluation has no gradients, so bigger batches are free
    # The scale axes (``at_scale``); the defaults leave a pipeline as it is.
    steps: int = 0  # total optimizer steps when > 0 (the budget in steps, the last epoch cut short), else epochs
    data_scale: float = 1.0  # the training split: a stratified fraction (< 1) or a multiple (> 1, generated data)
    evals: int = 0  # test evaluations along the run: 0 after every epoch, else at this many evenly spaced steps

    def steps_per_epoch(self, n_train: int) -> int:
        """Full batches only (the last partial batch is dropped): every step has one shape."""
        return max(1, n_train // self.batch_size)

    def total_steps(self, n_train: int) -> int:
        return self.steps if self.steps > 0 else self.epochs * self.steps_per_epoch(n_train)

    def eval_steps(self, n_train: int) -> list[int]:
        """The step counts after which the test set is evaluated (the learning curve's points); the
        last is always the end of the run."""
        total, per_epoch = self.total_steps(n_train), self.steps_per_epoch(n_train)
        if self.evals <= 0:
            return sorted({*range(per_epoch, total + 1, per_epoch), total})
        return sorted({max(1, round(total * (i + 1) / self.evals)) for i in range(self.evals)})

    def lr_at(self, step: int, total_steps: int) -> float:
        """Learning rate of optimizer step ``step`` (0-based): warm-up, then cosine to zero."""
        warmup = max(1, int(self.warmup_frac * total_steps))
        if step < warmup:
            return self.lr * (step + 1) / warmup
        progress = (step - warmup) / max(1, total_steps - warmup)
        return self.lr * 0.5 * (1.0 + math.cos(math.pi * min(1.0, progress)))


@dataclass(frozen=True)
class Windows:
    """The unit both representations share: windows of ``window`` cells every ``stride`` cells.

    ``window`` and ``stride`` have one entry per axis of the signal ((h, w) for an image,
    (t, h, w) for a clip). Windows that do not fit are completed with zero padding at the
    end of each axis, so every cell of the signal lands in at least one window.
    """

    window: tuple
    stride: tuple

    def __post_init__(self):
        if len(self.window) != len(self.stride):
            raise ValueError(f"window {self.window} and stride {self.stride} differ in rank")
        if any(s < 1 or w < 1 for w, s in zip(self.window, self.stride)):
            raise ValueError(f"window {self.window} and stride {self.stride} must be positive")

    def grid(self, shape: tuple) -> tuple:
        """Number of windows along each axis of a signal of ``shape``."""
        return tuple(
            max(0, math.ceil((n - w) / s)) + 1 for n, w, s in zip(shape, self.window, self.stride)
        )

    def padded(self, shape: tuple) -> tuple:
        """The signal shape after zero padding, so that the grid covers it exactly."""
        return tuple((g - 1) * s + w for g, w, s in zip(self.grid(shape), self.window, self.stride))

    @property
    def size(self) -> int:
        return math.prod(self.window)


@dataclass(frozen=True)
class Codebook:
    """The token representation's k-means codebook, fitted on training windows only."""

    size: int = 256  # ImageGPT used 512 colour centroids; each dataset picks its own size
    iterations: int = 25  # Lloyd iterations; the inertia changes by < 0.1% after ~20 here
    sample: int = 100_000  # training windows the fit sees (a seeded subsample), for speed
    seed: int = 0  # the fit's own seed: fixed, so that every training seed shares one codebook


@dataclass(frozen=True)
class Vocabulary:
    """The text token representation's word vocabulary, learned on the training split."""

    size: int = 8000  # ids: 0 padding, 1 out-of-vocabulary, then the 7,998 most frequent training words
    max_len: int = 32  # words per text: 32 covers 99.99% of the default corpus's tweets
    min_count: int = 2  # a word seen once in training is as good as unknown

    @property
    def words(self) -> int:
        return self.size - 2


@dataclass(frozen=True)
class DatasetSpec:
    """What a pipeline needs to know about its dataset (the card holds the rest)."""

    name: str
    signal_shape: tuple  # shape of one sample, without the batch axis: (28, 28); (bytes,) for text
    num_classes: int
    target_accuracy: float  # % test accuracy whose first crossing is timed ("time to target")
    kind: str = "signal"  # "signal": uint8 arrays; "text": strings, cut into UTF-8 bytes
    classes: tuple = ()  # the label names, class id order (a prepared user dataset's, from its meta.json)
    fingerprint: str = ""  # sha256 of a prepared user dataset's arrays and labels ("" for the embedded ones)

    def __post_init__(self):
        if self.num_classes < 2:
            raise ValueError(f"dataset {self.name!r} has {self.num_classes} class(es); a classifier needs 2 or more")
        if self.classes and len(self.classes) != self.num_classes:
            raise ValueError(f"dataset {self.name!r}: {len(self.classes)} class names for {self.num_classes} classes")


@dataclass(frozen=True)
class PipelineSpec:
    dataset: DatasetSpec
    representation: str  # "fragment" or "token"
    windows: Windows | None  # the units; None for word tokens (a word is the unit)
    codebook: Codebook | Vocabulary | None = None  # token pipelines only
    encoder: EncoderConfig = field(default_factory=EncoderConfig)
    train: TrainConfig = field(default_factory=TrainConfig)
    variant: str = ""  # "" for the default geometry, else a short name such as "article"
    backbone: Backbone = TRANSFORMER
    scale: str = ""  # "" for the pipeline as registered, else its scale point (``at_scale``): "width=128"

    def __post_init__(self):
        if self.representation not in REPRESENTATIONS:
            raise ValueError(f"representation must be one of {REPRESENTATIONS}, got {self.representation!r}")
        if (self.representation == "token") != (self.codebook is not None):
            raise ValueError("a token pipeline needs a codebook and a fragment pipeline none")
        if self.windows is None and not isinstance(self.codebook, Vocabulary):
            raise ValueError("only word tokens (a Vocabulary) go without windows")

    @property
    def name(self) -> str:
        return str(PipelineName(self.dataset.name, self.representation, self.variant, self.backbone.name, self.scale))

    @property
    def base_name(self) -> str:
        """The name without the backbone and scale: the pipeline whose data and preprocessing this one shares."""
        return PipelineName.parse(self.name).base

    @property
    def words(self) -> bool:
        """Word tokens: a learned vocabulary instead of k-means centroids of windows."""
        return isinstance(self.codebook, Vocabulary)

    @property
    def preprocessing(self) -> str:
        """Which of PREPROCESSINGS turns this pipeline's raw samples into its model input."""
        text = self.dataset.kind == "text"
        if self.representation == "fragment":
            return "byte_fragments" if text else "fragments"
        return "word_ids" if self.words else "tokens"

    @property
    def grid(self) -> tuple:
        return (self.codebook.max_len,) if self.words else self.windows.grid(self.dataset.signal_shape)

    @property
    def seq_len(self) -> int:
        return math.prod(self.grid)

    @property
    def input_dim(self) -> int:
        """Width of one unit before the encoder: the vocabulary (token), the window's cells
        (fragment), times 256 for text, whose bytes are one-hot encoded."""
        if self.representation == "token":
            return self.codebook.size
        return self.windows.size * (256 if self.dataset.kind == "text" else 1)

    def to_dict(self) -> dict:
        d = dataclasses.asdict(self)
        d["name"] = self.name
        d["seq_len"] = self.seq_len
        return d


# --- datasets ------------------------------------------------------------------------

MNIST = DatasetSpec("mnist", signal_shape=(28, 28), num_classes=10, target_accuracy=90.0,
                    classes=tuple(str(i) for i in range(10)))
# Moving MNIST: 8 frames of 64x64; 4 speed classes (chance 25%).
VIDEO = DatasetSpec("video", signal_shape=(8, 64, 64), num_classes=4, target_accuracy=80.0,
                    classes=("speed 1", "speed 2", "speed 3", "speed 4"))
# Tweets, cut to their first 256 UTF-8 bytes; 3 sentiments (the majority class is 42%).
TEXT = DatasetSpec("text", signal_shape=(256,), num_classes=3, target_accuracy=60.0, kind="text",
                   classes=("negative", "neutral", "positive"))
EMBEDDED = {d.name: d for d in (MNIST, VIDEO, TEXT)}

# --- the registry --------------------------------------------------------------------

# 7x7 windows every 7 pixels: 4x4 = 16 units per digit. 4x4 windows (49 units) cost 3x
# more per step and reached lower accuracy within the same time on 4,000 digits.
MNIST_WINDOWS = Windows(window=(7, 7), stride=(7, 7))
# Tubelets of 2 frames x 16 x 16 pixels (ViViT): 4 x 4 x 4 = 64 units per clip.
VIDEO_WINDOWS = Windows(window=(2, 16, 16), stride=(2, 16, 16))
# 8-byte windows of the first 256 UTF-8 bytes: 32 units, as many as the 32 word tokens.
TEXT_WINDOWS = Windows(window=(8,), stride=(8,))
NO_SHIFT = TrainConfig(max_shift=0)
MNIST_TRAIN = TrainConfig(epochs=30)  # 30 epochs of 4,000 digits: where test accuracy levels off
# The original article's geometry: 10x10 windows every 5 pixels (5x5 = 25 overlapping units).
ARTICLE_WINDOWS = Windows(window=(10, 10), stride=(5, 5))


def _pair(dataset: DatasetSpec, windows: Windows, codebook: Codebook, **kw) -> list[PipelineSpec]:
    return [
        PipelineSpec(dataset, "fragment", windows, **kw),
        PipelineSpec(dataset, "token", windows, codebook=codebook, **kw),
    ]


PIPELINES: dict[str, PipelineSpec] = {
    p.name: p for p in [
        # 1,024 centroids: 256 left a 7x7 window too coarse (85% vs 92% test accuracy here)
        *_pair(MNIST, MNIST_WINDOWS, Codebook(size=1024), train=MNIST_TRAIN),
        # video: no shift augmentation (it would not change the speed); small batches, because
        # the number of steps limits learning here: 8 epochs of batch 64 stayed at chance.
        # A lower rate: at 2e-3 video/fragment stayed at chance in PyTorch (26%) from the very
        # weights and batches on which TensorFlow reached 51%; at 1e-3 it got 41%; at 5e-4 both
        # frameworks reach 58-59% in 12 epochs, and video/token 43% (37% at 2e-3).
        *_pair(VIDEO, VIDEO_WINDOWS, Codebook(iterations=15),
               train=replace(NO_SHIFT, epochs=12, batch_size=32, lr=5e-4)),
        # text: 30,526 training tweets; two epochs already cost as much as MNIST's thirty
        PipelineSpec(TEXT, "fragment", TEXT_WINDOWS, train=replace(NO_SHIFT, epochs=2)),
        PipelineSpec(TEXT, "token", None, codebook=Vocabulary(), train=replace(NO_SHIFT, epochs=2)),
    ]
}

# Named variants: selectable by name (``mnist/fragment@article``) but not in the default matrix.
VARIANTS: dict[str, PipelineSpec] = {
    p.name: p for p in _pair(MNIST, ARTICLE_WINDOWS, Codebook(size=1024), train=MNIST_TRAIN, variant="article")
}


def with_backbone(spec: PipelineSpec, backbone: str) -> PipelineSpec:
    """``spec`` with the backbone ``backbone``, sized for its unit grid (``mnist/fragment+cnn``)."""
    return replace(spec, backbone=sized(backbone, len(spec.grid)))


def backbone_pipelines() -> dict[str, PipelineSpec]:
    """Every default pipeline under every other registered backbone: ``<pipeline>+<backbone>``. Not in
    the default matrix (PIPELINES); parity covers them all (``registered()``), and bench_backbones times
    and scores them."""
    return _backbone_pipelines(backbones.names())


@functools.lru_cache(maxsize=8)
def _backbone_pipelines(names: tuple[str, ...]) -> dict[str, PipelineSpec]:
    return {p.name: p for p in (with_backbone(base, b) for base in PIPELINES.values()
                                for b in names if b != base.backbone.name)}


def registered() -> dict[str, PipelineSpec]:
    """The pipelines every check covers: the default matrix, then each under every other backbone, then
    each at the widths of the scale grid (the one scale axis that changes the model)."""
    return {**PIPELINES, **backbone_pipelines(), **SCALE_PIPELINES}


def get_pipeline(name: str, more: dict[str, PipelineSpec] | None = None) -> PipelineSpec:
    """Look a pipeline up by name; an unknown name is an error that lists the valid ones.

    ``<pipeline>+<backbone>`` selects another backbone for any pipeline or variant
    (``mnist/fragment@article+cnn``). ``more``: further pipelines to look in, such as a prepared
    user dataset's (``user_pipelines``; ``tokfrag.catalog.get_pipeline`` passes them).
    """
    more = more or {}
    for table in (PIPELINES, VARIANTS, backbone_pipelines(), SCALE_PIPELINES, more):
        if name in table:
            return table[name]
    parsed = PipelineName.parse(name)
    if parsed.scale:
        return at_scale(get_pipeline(parsed.family, more), parsed.scale)
    if parsed.backbone in backbones.names() and parsed.base in {**PIPELINES, **VARIANTS, **more}:
        return with_backbone(get_pipeline(parsed.base, more), parsed.backbone)
    valid = ", ".join(list(PIPELINES) + list(VARIANTS) + list(more))
    raise UnknownName(f"unknown pipeline {name!r}; valid pipelines: {valid}, each also as <name>+<backbone> "
                      f"with a backbone among {', '.join(backbones.names())} (a dataset of your own: `tokfrag "
                      "prepare KIND --source PATH --name NAME` makes NAME/fragment and NAME/token)")


def datasets() -> list[str]:
    """Names of the datasets that registered pipelines use, in registry order."""
    return list(dict.fromkeys(p.dataset.name for p in PIPELINES.values()))


# --- datasets of your own -----------------------------------------------------------
#
# A prepared user dataset (``tokfrag prepare KIND --source PATH --name NAME``) gets the two
# pipelines of the embedded dataset of its kind, with the shapes and classes of its data: the
# DatasetSpec comes from its meta.json (``user_dataset``), the rest from the template below, so
# the hyperparameters stay here. Units per sample follow from the signal shape (windows that do
# not divide it are zero-padded, as for the embedded data).

# Kind of a user source -> the embedded dataset whose pipelines are its template.
TEMPLATES = {"image": "mnist", "video": "video", "text": "text"}
# Training split sizes of the embedded datasets (their cards): the template's step budget.
TEMPLATE_TRAIN = {"mnist": 4000, "video": 2000, "text": 30526}
# Text of one's own: units cover the 99th percentile of the training texts' UTF-8 lengths (meta
# "shape"), in the template's 8-byte windows, at most this many (the embedded text has 32).
MAX_TEXT_UNITS = 64
# An image folder's images are resized so that the longer side is at most this (7x7 windows:
# at most 10 x 10 = 100 units per image); IDX images keep their size.
MAX_IMAGE_SIDE = 64


def user_dataset(meta: dict) -> DatasetSpec:
    """The DatasetSpec of a prepared user dataset, from its meta.json: name, kind, signal shape
    (image (h, w), clip (t, h, w), text: the 99th-percentile length in bytes), class names, target
    accuracy (``--target``, else the template's) and the data's fingerprint."""
    kind = meta["kind"]
    if kind not in TEMPLATES:
        raise ValueError(f"dataset {meta.get('dataset')!r}: unknown kind {kind!r}; valid: {', '.join(TEMPLATES)}")
    template = EMBEDDED[TEMPLATES[kind]]
    shape = tuple(int(n) for n in meta["shape"])
    if kind == "text":
        cell = TEXT_WINDOWS.window[0]
        shape = (min(MAX_TEXT_UNITS, max(1, math.ceil(shape[0] / cell))) * cell,)
    classes = tuple(str(c) for c in meta["classes"])
    target = meta.get("target")
    return DatasetSpec(meta["dataset"], shape, len(classes),
                       float(target) if target is not None else template.target_accuracy,
                       kind=template.kind, classes=classes, fingerprint=meta.get("data_sha256", ""))


def _user_budget(template: TrainConfig, template_train: int, n_train: int) -> TrainConfig:
    """The template's number of optimizer steps (and so its warm-up and decay) on ``n_train``
    samples: ceil(steps / steps per epoch) epochs. Not fewer steps for a small set: with a few
    dozen steps the rate peaks at once, and the first steps of training (parity's trajectory)
    become chaotic, where both frameworks' float rounding grows into different runs."""
    steps = template.total_steps(template_train)
    return replace(template, epochs=max(1, math.ceil(steps / template.steps_per_epoch(n_train))))


def user_pipelines(meta: dict) -> dict[str, PipelineSpec]:
    """``<name>/fragment`` and ``<name>/token`` of a prepared user dataset (its meta.json): the
    template's windows, codebook and training config, on the data's shape and classes. A k-means
    codebook has at most as many centroids as there are training windows; the epochs give the
    template's number of steps (``_user_budget``)."""
    dataset = user_dataset(meta)
    n_train = int(meta["splits"]["train"])
    out = {}
    for template in PIPELINES.values():
        if template.dataset.name != TEMPLATES[meta["kind"]]:
            continue
        train = _user_budget(template.train, TEMPLATE_TRAIN[template.dataset.name], n_train)
        codebook = template.codebook
        if isinstance(codebook, Vocabulary):
            codebook = replace(codebook, max_len=dataset.signal_shape[0] // TEXT_WINDOWS.window[0])
        elif codebook is not None:
            windows = n_train * math.prod(template.windows.grid(dataset.signal_shape))
            codebook = replace(codebook, size=min(codebook.size, windows))
        spec = replace(template, dataset=dataset, codebook=codebook, train=train)
        out[spec.name] = spec
    return out


def with_overrides(spec: PipelineSpec, **train_overrides) -> PipelineSpec:
    """A copy of ``spec`` with some training fields changed (used by quick smoke runs)."""
    return replace(spec, train=replace(spec.train, **train_overrides))


# --- scale: the verdict as a function of data, model size and budget -------------------
#
# A scale point changes one axis of a pipeline and keeps the rest (one factor at a time around the
# default point, which every axis shares):
#
# * ``data=F``: the training split cut to the fraction F (class-stratified, drawn with the training
#   seed, the same subset in both frameworks) or, for generated data (video), grown to F times its
#   clips (the same test clips). The number of optimizer steps stays the default's: every data point
#   costs the same compute, so the axis measures data, not budget. The token codebook or vocabulary
#   stays the one fitted on the full training split, as a tokenizer is fitted once and kept.
# * ``width=W``: the encoder width (heads scaled so that the head size, 16, holds; depth as it is).
# * ``budget=K``: K times the default's optimizer steps, the schedule (warm-up, cosine decay) ending
#   at that budget: a budget point is a run of its own, never an intermediate point of a longer run.
#
# Every scale run evaluates at ``SCALE_EVALS`` evenly spaced steps: its learning curve.

SCALE_AXES = ("data", "width", "budget")
HEAD_SIZE = 16  # the default's 64 / 4 heads
SCALE_EVALS = 8  # curve points per run; text's 7,600 test tweets make evaluation a third of a 1x run's cost
# The grid of `make bench-scale` (besides "default"), chosen by cost: a transformer run at the default
# point takes 35-60 s on 2 uncontended cores and a point is 6 runs (2 representations x 3 seeds); the
# data points keep the default's steps, so each costs a default run; width 128 about 2.5; budget K about
# K. Budgets below 1 are cheap; above 1 only video's, to 4x (12 epochs left every pipeline short of its
# 80% target; MNIST's 30 epochs are where its accuracy levels off, and text's default run's own
# learning curve shows whether it does); only the generated video grows beyond its split.
SCALE_GRID = {
    "mnist": ("data=1/8", "data=1/2", "width=32", "width=128", "budget=1/4", "budget=1/2"),
    "video": ("data=2", "data=4", "width=32", "width=128", "budget=1/2", "budget=4"),
    "text": ("data=1/8", "data=1/2", "width=32", "width=128", "budget=1/4", "budget=1/2"),
}
DEFAULT_POINT = "default"
# The grid runs in one framework and backbones; the other framework on a cross-check subset of cheap points
# (both frameworks are proven to train the same weights: `tokfrag parity`).
SCALE_FRAMEWORK = "pytorch"
SCALE_BACKBONES = (backbones.DEFAULT, "cnn")
SCALE_CROSS_CHECK = {"framework": "tensorflow", "backbone": backbones.DEFAULT, "points": ("width=32", "budget=1/2")}


def scale_points() -> list[str]:
    """Every scale point of the grid, "default" first, then by axis and value (the asv parameter)."""
    points = {p for grid in SCALE_GRID.values() for p in grid}
    return [DEFAULT_POINT] + sorted(points, key=lambda p: (SCALE_AXES.index(parse_point(p)[0]), parse_point(p)[1]))


def parse_point(point: str) -> tuple[str, float]:
    """``"data=1/8"`` -> ("data", 0.125); "default" -> ("default", 1.0). A bad point is an error that
    says the grammar."""
    from fractions import Fraction

    if point == DEFAULT_POINT:
        return DEFAULT_POINT, 1.0
    axis, _, value = point.partition("=")
    try:
        v = float(Fraction(value))
    except (ValueError, ZeroDivisionError):
        v = 0.0
    if axis not in SCALE_AXES or v <= 0 or (axis == "width" and (v != int(v) or int(v) % HEAD_SIZE)):
        raise UnknownName(f"unknown scale point {point!r}: expected 'default' or AXIS=VALUE with AXIS among "
                          f"{', '.join(SCALE_AXES)} and a positive VALUE (data=1/8, data=2, width=128 (a multiple "
                          f"of {HEAD_SIZE}), budget=4)")
    return axis, v


def point_value(spec: PipelineSpec, axis: str) -> float:
    """Where ``spec`` stands on ``axis``: its training fraction, its width, or its budget in multiples
    of its dataset's default steps."""
    t = spec.train
    if axis == "data":
        return t.data_scale
    if axis == "width":
        return float(spec.encoder.width)
    base = _default_train(spec)
    n = TEMPLATE_TRAIN.get(spec.dataset.name)
    if n is None:
        raise UnknownName(f"{spec.name}: scale points are defined for the embedded datasets "
                          f"({', '.join(TEMPLATE_TRAIN)})")
    return t.total_steps(n) / base.total_steps(n)


def _default_train(spec: PipelineSpec) -> TrainConfig:
    base = PIPELINES.get(f"{spec.dataset.name}/{spec.representation}" if not spec.words else "text/token")
    if base is None or spec.dataset.name not in TEMPLATE_TRAIN:
        raise UnknownName(f"{spec.name}: scale points are defined for the embedded datasets "
                          f"({', '.join(TEMPLATE_TRAIN)}), not for {spec.dataset.name!r}")
    return replace(base.train, seed=spec.train.seed)


def at_scale(spec: PipelineSpec, point: str) -> PipelineSpec:
    """``spec`` at the scale point ``point`` (see above), with the curve's evaluations; "default" keeps
    the model, data and budget and only adds the curve's evaluations."""
    axis, v = parse_point(point)
    _default_train(spec)  # an embedded dataset's pipeline, or an error that says so
    n = TEMPLATE_TRAIN[spec.dataset.name]
    steps = spec.train.total_steps(n)
    train = replace(spec.train, steps=steps, evals=SCALE_EVALS)
    encoder = spec.encoder
    if axis == "data":
        train = replace(train, data_scale=v)
    elif axis == "budget":
        train = replace(train, steps=max(1, round(steps * v)))
    elif axis == "width":
        encoder = replace(encoder, width=int(v), heads=int(v) // HEAD_SIZE)
    return replace(spec, train=train, encoder=encoder, scale=point)


# The default pipelines at the grid's other widths: what parity covers of the scale axes (data and
# budget change the training split and the step count, not the model both frameworks build).
SCALE_PIPELINES: dict[str, PipelineSpec] = {
    p.name: p for p in (at_scale(base, point) for base in PIPELINES.values()
                        for point in dict.fromkeys(q for g in SCALE_GRID.values() for q in g)
                        if point.startswith("width="))
}
