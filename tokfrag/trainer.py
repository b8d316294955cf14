"""The trainer contract: what a framework implements, and what every framework shares.

A framework is a package ``implementations/<framework>/`` (``tokfrag.frameworks`` imports it
lazily) of four files with the same names on both sides: ``layers.py``, ``model.py``,
``preprocess.py`` and ``train.py``. Its ``train.py`` subclasses :class:`Trainer` and fills in
the abstract methods: tensors, the step, the device and its memory. Everything else lives
here once: the mode and precision checks, the codebook set-up, the dispatch from a pipeline
to its preprocessing (``PipelineSpec.preprocessing``: ``fragments``, ``tokens``,
``byte_fragments`` or ``word_ids``) and chunked preprocessing and inference.

The package itself exports what :class:`Framework` lists. Nothing here imports a framework.
"""

from __future__ import annotations

import abc
import contextlib
from types import ModuleType
from typing import Any, Callable, Protocol

import numpy as np

from . import params
from .spec import MODES, PRECISIONS, PipelineSpec

PREPROCESS_CHUNK = 1024  # samples preprocessed at a time by Trainer.inputs (bounded device memory)


def check_options(mode: str, precision: str) -> None:
    """ValueError unless ``mode`` and ``precision`` are ones every framework implements."""
    if mode not in MODES:
        raise ValueError(f"unknown mode {mode!r}; valid modes: {', '.join(MODES)}")
    if precision not in PRECISIONS:
        raise ValueError(f"unknown precision {precision!r}; valid: {', '.join(PRECISIONS)}")


class Trainer(abc.ABC):
    """One pipeline's network on one device: preprocessing, one AdamW step, inference.

    ``weights``: the canonical parameters to start from (default: ``params.initial(spec)``,
    the same seeded weights in every framework), or ``"native"`` to keep the framework's own
    initialisation. ``codebook``: a token pipeline's k-means centroids or word vocabulary.
    ``group``: a ``tokfrag.workers.Group`` when this process is one of several data-parallel
    workers; ``train_step`` then takes this worker's shard, and the framework's engine averages
    the gradients over the workers (``tokfrag.workers``).
    """

    framework: str  # "pytorch", "tensorflow": the key in tokfrag.frameworks.FRAMEWORKS
    ops: ModuleType  # the framework's preprocess module (fragments, tokens, WordTokenizer...)

    def __init__(self, spec: PipelineSpec, device: str = "cpu", mode: str = "default",
                 precision: str = "fp32", codebook=None, weights: dict[str, np.ndarray] | str | None = None,
                 group=None):
        check_options(mode, precision)
        self.spec, self.mode, self.precision = spec, mode, precision
        # tokfrag.workers.Group: this process is one of several data-parallel workers (None: the only one)
        self.group = group if group is not None and group.size > 1 else None
        self.device = self.open_device(device)
        with self.on_device():
            self.model = self.build_model()
            if not (isinstance(weights, str) and weights == "native"):
                self.load(weights if weights is not None else params.initial(spec))
            self.codebook = self._codebook(codebook)  # k-means centroids on the device, or a word tokenizer
            self.optimizer = self.build_optimizer()
        self.compile()

    def _codebook(self, codebook):
        spec = self.spec
        if spec.representation != "token":
            return None
        if codebook is None:
            raise ValueError(f"{spec.name} needs its codebook")
        if spec.words:
            return self.ops.WordTokenizer(codebook, spec.codebook.max_len)
        return self.tensor(np.asarray(codebook, np.float32))

    def decays(self, name: str) -> bool:
        """Whether AdamW's weight decay applies to the canonical parameter ``name``."""
        return params.decays(name, params.shapes(self.spec)[name])

    # --- preprocessing: one function per kind, by name ---------------------------------
    def preprocess(self, x):
        """Uploaded samples (see ``upload``) -> the model input, on the device."""
        return self.units(x)

    def units(self, x):
        """The pipeline's preprocessing (``spec.preprocessing``) applied to uploaded samples."""
        return getattr(self, self.spec.preprocessing)(x)

    def fragments(self, x):
        return self.ops.fragments(x, self.spec.windows)

    def tokens(self, x):
        return self.ops.tokens(x, self.spec.windows, self.codebook)

    @abc.abstractmethod
    def byte_fragments(self, texts): ...

    @abc.abstractmethod
    def word_ids(self, texts): ...

    def inputs(self, x: np.ndarray):
        """Preprocess samples on the device, in chunks: fragments or token ids."""
        with self.preprocessing_scope():
            return self.concat([self.preprocess(self.upload(x[i:i + PREPROCESS_CHUNK]))
                                for i in range(0, len(x), PREPROCESS_CHUNK)])

    def predict(self, x, batch_size: int) -> np.ndarray:
        """Predicted classes of model inputs ``x``, ``batch_size`` at a time."""
        return np.concatenate([self.argmax(self.logits(x[i:i + batch_size]))
                               for i in range(0, int(x.shape[0]), batch_size)])

    # --- what a framework implements ---------------------------------------------------
    @abc.abstractmethod
    def open_device(self, device: str) -> Any:
        """"cpu" or "gpu" -> the framework's device (DeviceUnavailable when there is none)."""

    def on_device(self) -> contextlib.AbstractContextManager:
        """The context the model, weights and optimizer are created in."""
        return contextlib.nullcontext()

    def preprocessing_scope(self) -> contextlib.AbstractContextManager:
        """The context chunked preprocessing runs in."""
        return contextlib.nullcontext()

    @abc.abstractmethod
    def build_model(self) -> Any:
        """The encoder of ``self.spec`` (implementations/<fw>/model.py), built, on the device."""

    @abc.abstractmethod
    def build_optimizer(self) -> Any:
        """AdamW with the spec's rates, weight decay where ``self.decays(name)``."""

    def compile(self) -> None:
        """Prepare the step and the forward pass for ``self.mode`` and ``self.precision``."""

    @abc.abstractmethod
    def upload(self, x: np.ndarray): ...

    @abc.abstractmethod
    def tensor(self, x: np.ndarray):
        """An already preprocessed numpy array (fragments or ids) as a model input on the device."""

    @abc.abstractmethod
    def labels(self, y: np.ndarray): ...

    @abc.abstractmethod
    def take(self, t, idx: np.ndarray): ...

    @abc.abstractmethod
    def concat(self, parts: list): ...

    @abc.abstractmethod
    def train_step(self, x, y, lr: float):
        """One AdamW step at rate ``lr``; returns the loss tensor (not synchronised)."""

    def global_loss(self, loss):
        """The loss over the global batch from this worker's ``train_step`` result (a collective:
        every worker calls it). One worker: ``loss`` itself."""
        return loss

    @abc.abstractmethod
    def logits(self, x): ...

    @abc.abstractmethod
    def argmax(self, logits) -> np.ndarray:
        """The predicted classes of a batch of logits, on the host."""

    @abc.abstractmethod
    def sync(self, value=None) -> float | None:
        """Wait for the device; returns ``value`` as a Python float if given."""

    @abc.abstractmethod
    def parameters(self) -> dict[str, np.ndarray]:
        """Every parameter by canonical name, in the canonical layout (tokfrag.params)."""

    @abc.abstractmethod
    def load(self, values: dict[str, np.ndarray]) -> None: ...

    @abc.abstractmethod
    def gradients(self, x, y) -> tuple[float, dict[str, np.ndarray]]:
        """Loss and every parameter's gradient (canonical layout) after one backward pass."""

    @abc.abstractmethod
    def reset_peak_memory(self) -> None: ...

    @abc.abstractmethod
    def peak_memory(self) -> int | None:
        """Peak device memory in bytes since the last reset (None on CPU)."""


class Framework(Protocol):
    """What an implementation package (``implementations/<framework>/__init__.py``) exports."""

    Trainer: type[Trainer]
    MODES: tuple[str, ...]
    PRECISIONS: tuple[str, ...]
    OOM_ERRORS: tuple[type[BaseException], ...]  # what halves the batch size and retries
    model: ModuleType
    preprocess: ModuleType

    def select_device(self, device: str) -> Any: ...

    def bare_step(self, spec: PipelineSpec, batch_size: int, device: str = "cpu") -> tuple[Callable, Callable]:
        """The model's plain training step on synthetic tensors (timm's benchmark.py style: no Trainer, no
        preprocessing, no rate schedule) as ``(step, sync)``: ``step()`` runs one step and returns its
        loss, ``sync(loss)`` waits for it. ``bare_loop`` times it."""

    def matmul_peak(self, device: str = "cpu", precision: str = "fp32", n: int = 2048,
                    seconds: float = 1.0) -> float: ...

    def versions(self) -> dict[str, str]: ...

    def join_workers(self, rank: int, size: int, local_rank: int, device: str) -> Any:
        """Join the data-parallel worker group the launcher's environment describes; returns the
        handle ``tokfrag.workers.Group`` keeps (TensorFlow's strategy)."""

    def leave_workers(self, group) -> None: ...


# The names a framework package exports, read off the protocol above: its ``__init__.py`` exports
# exactly these (``__all__ = list(FRAMEWORK_API)``), and tests/test_models.py checks both packages.
FRAMEWORK_API = tuple(sorted({*Framework.__annotations__,
                              *(n for n, v in vars(Framework).items() if callable(v) and not n.startswith("_"))}))
BARE_WARMUP = 3  # steps run before bare_loop's timing starts


def bare_loop(impl: Framework, spec: PipelineSpec, batch_size: int, device: str = "cpu") -> Callable[[int], float]:
    """The framework's bare step (``Framework.bare_step``), warmed up. Returns ``timed(steps)``: the
    seconds per step of ``steps`` more steps, synchronised."""
    import time

    step, sync = impl.bare_step(spec, batch_size, device)
    for _ in range(BARE_WARMUP):
        sync(step())

    def timed(steps: int) -> float:
        start = time.perf_counter()
        for _ in range(steps):
            loss = step()
        sync(loss)
        return (time.perf_counter() - start) / steps

    return timed
