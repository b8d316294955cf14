"""The PyTorch Trainer: preprocessing, one AdamW step, inference, on one device.

The interface is identical to ``implementations.tensorflow.train.Trainer``; the shared
training loop (``tokfrag.training``) drives either one with the same batches and rates.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from tokfrag import params
from tokfrag.frameworks import DeviceUnavailable, threads
from tokfrag.spec import PipelineSpec

from . import preprocess
from .model import TokFragEncoder, load_parameters, named_parameters

MODES = ("default", "compiled")
PRECISIONS = ("fp32",)
OOM_ERRORS = (torch.OutOfMemoryError,)
PREPROCESS_CHUNK = 1024


def select_device(device: str) -> torch.device:
    if device == "cpu":
        return torch.device("cpu")
    if device == "gpu":
        if not torch.cuda.is_available():
            raise DeviceUnavailable("no GPU: torch.cuda.is_available() is False")
        return torch.device("cuda", 0)
    raise ValueError(f"unknown device {device!r}; valid devices: cpu, gpu")


class Trainer:
    framework = "pytorch"

    def __init__(self, spec: PipelineSpec, device: str = "cpu", mode: str = "default",
                 precision: str = "fp32", centroids: np.ndarray | None = None,
                 weights: dict[str, np.ndarray] | str | None = None):
        if mode not in MODES:
            raise ValueError(f"unknown mode {mode!r}; valid modes: {', '.join(MODES)}")
        if precision not in PRECISIONS:
            raise ValueError(f"unknown precision {precision!r}; valid: {', '.join(PRECISIONS)}")
        torch.set_num_threads(threads())
        torch.set_float32_matmul_precision("highest")  # no TF32: exact token distances on GPU
        self.spec, self.mode, self.precision = spec, mode, precision
        self.device = select_device(device)
        self.model = TokFragEncoder(spec).to(self.device)
        if not (isinstance(weights, str) and weights == "native"):  # "native": keep the framework's own init
            load_parameters(self.model, weights if weights is not None else params.initial(spec))
        self.centroids = None
        if spec.representation == "token":
            if centroids is None:
                raise ValueError(f"{spec.name} needs its codebook centroids")
            self.centroids = torch.as_tensor(centroids, dtype=torch.float32, device=self.device)
        shapes = params.shapes(spec)
        decay = [p for n, p in self.model.named_parameters() if params.decays(n, shapes[n])]
        rest = [p for n, p in self.model.named_parameters() if not params.decays(n, shapes[n])]
        t = spec.train
        self.optimizer = torch.optim.AdamW(
            [{"params": decay, "weight_decay": t.weight_decay}, {"params": rest, "weight_decay": 0.0}],
            lr=t.lr, betas=tuple(t.betas), eps=t.eps,
        )
        self.forward = torch.compile(self.model) if mode == "compiled" else self.model

    # --- data -------------------------------------------------------------------------
    def inputs(self, x: np.ndarray) -> torch.Tensor:
        """Preprocess uint8 samples on the device, in chunks: fragments or token ids."""
        out = []
        with torch.no_grad():
            for i in range(0, len(x), PREPROCESS_CHUNK):
                out.append(self.preprocess(torch.from_numpy(np.ascontiguousarray(x[i:i + PREPROCESS_CHUNK])).to(self.device)))
        return torch.cat(out)

    def preprocess(self, x: torch.Tensor) -> torch.Tensor:
        w = self.spec.windows
        if self.spec.representation == "fragment":
            return preprocess.fragments(x, w)
        return preprocess.tokens(x, w, self.centroids)

    def upload(self, x: np.ndarray) -> torch.Tensor:
        return torch.from_numpy(np.ascontiguousarray(x)).to(self.device)

    def labels(self, y: np.ndarray) -> torch.Tensor:
        return torch.as_tensor(y, dtype=torch.int64, device=self.device)

    def take(self, t: torch.Tensor, idx: np.ndarray) -> torch.Tensor:
        return t[torch.as_tensor(idx, device=self.device)]

    # --- compute ----------------------------------------------------------------------
    def _loss(self, x, y):
        return F.cross_entropy(self.forward(x), y)

    def train_step(self, x: torch.Tensor, y: torch.Tensor, lr: float) -> torch.Tensor:
        """One AdamW step at rate ``lr``; returns the loss tensor (not synchronised)."""
        self.model.train()
        for g in self.optimizer.param_groups:
            g["lr"] = lr
        self.optimizer.zero_grad(set_to_none=True)
        loss = self._loss(x, y)
        loss.backward()
        self.optimizer.step()
        return loss.detach()

    def logits(self, x: torch.Tensor) -> torch.Tensor:
        self.model.eval()
        with torch.inference_mode():
            return self.forward(x)

    def sync(self, value=None) -> float | None:
        """Wait for the device; returns ``value`` as a Python float if given."""
        if value is not None:
            return float(value.item())  # .item() synchronises
        if self.device.type == "cuda":
            torch.cuda.synchronize(self.device)
        return None

    def predict(self, x: torch.Tensor, batch_size: int) -> np.ndarray:
        return np.concatenate([self.logits(x[i:i + batch_size]).argmax(-1).cpu().numpy()
                               for i in range(0, len(x), batch_size)])

    # --- parameters (for parity) ------------------------------------------------------
    def parameters(self) -> dict[str, np.ndarray]:
        return named_parameters(self.model)

    def load(self, values: dict[str, np.ndarray]) -> None:
        load_parameters(self.model, values)

    def gradients(self, x: torch.Tensor, y: torch.Tensor) -> tuple[float, dict[str, np.ndarray]]:
        """Loss and every parameter's gradient after one backward pass (no update)."""
        self.model.train()
        self.optimizer.zero_grad(set_to_none=True)
        loss = self._loss(x, y)
        loss.backward()
        grads = {n: p.grad.detach().cpu().numpy().copy() for n, p in self.model.named_parameters()}
        self.optimizer.zero_grad(set_to_none=True)
        return float(loss.item()), grads

    # --- device memory ----------------------------------------------------------------
    def reset_peak_memory(self) -> None:
        if self.device.type == "cuda":
            torch.cuda.reset_peak_memory_stats(self.device)

    def peak_memory(self) -> int | None:
        """Peak device memory in bytes since the last reset (None on CPU)."""
        if self.device.type == "cuda":
            return int(torch.cuda.max_memory_allocated(self.device))
        return None


def versions() -> dict[str, str]:
    import timm

    out = {"torch": torch.__version__, "timm": timm.__version__}
    if torch.cuda.is_available():
        out["cuda"] = torch.version.cuda or ""
        out["gpu"] = torch.cuda.get_device_name(0)
    return out
