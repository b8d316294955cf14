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
PRECISIONS = ("fp32", "bf16")  # bf16: autocast (matmuls in bfloat16, weights and optimizer in float32)
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
                 precision: str = "fp32", codebook=None,
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
        self.codebook = None  # k-means centroids on the device, or a word tokenizer
        if spec.representation == "token":
            if codebook is None:
                raise ValueError(f"{spec.name} needs its codebook")
            if spec.words:
                self.codebook = preprocess.WordTokenizer(codebook, spec.codebook.max_len)
            else:
                self.codebook = torch.as_tensor(np.asarray(codebook), dtype=torch.float32, device=self.device)
        shapes = params.shapes(spec)
        decay = [p for n, p in self.model.named_parameters() if params.decays(n, shapes[n])]
        rest = [p for n, p in self.model.named_parameters() if not params.decays(n, shapes[n])]
        t = spec.train
        self.optimizer = torch.optim.AdamW(
            [{"params": decay, "weight_decay": t.weight_decay}, {"params": rest, "weight_decay": 0.0}],
            lr=t.lr, betas=tuple(t.betas), eps=t.eps,
        )
        self.forward = torch.compile(self.model) if mode == "compiled" else self.model
        self.autocast = dict(device_type=self.device.type, dtype=torch.bfloat16, enabled=precision == "bf16")

    # --- data -------------------------------------------------------------------------
    def inputs(self, x: np.ndarray) -> torch.Tensor:
        """Preprocess samples on the device, in chunks: fragments or token ids."""
        with torch.no_grad():
            return torch.cat([self.preprocess(self.upload(x[i:i + PREPROCESS_CHUNK]))
                              for i in range(0, len(x), PREPROCESS_CHUNK)])

    def preprocess(self, x) -> torch.Tensor:
        """Uploaded samples (see ``upload``) -> the model input, on the device."""
        spec, w = self.spec, self.spec.windows
        if spec.dataset.kind == "text":
            if spec.representation == "token":
                return self.codebook(x).to(self.device)  # words -> ids on the host, then uploaded
            return preprocess.byte_fragments(preprocess.text_bytes(x, spec.dataset.signal_shape[0]).to(self.device), w)
        if spec.representation == "fragment":
            return preprocess.fragments(x, w)
        return preprocess.tokens(x, w, self.codebook)

    def upload(self, x: np.ndarray):
        """Samples to the device: uint8 arrays as tensors; texts stay host strings (torch has none)."""
        if self.spec.dataset.kind == "text":
            return list(x)
        return torch.from_numpy(np.ascontiguousarray(x)).to(self.device)

    def tensor(self, x: np.ndarray) -> torch.Tensor:
        """An already preprocessed numpy array (fragments or ids) as a model input on the device."""
        return torch.from_numpy(np.ascontiguousarray(x)).to(self.device)

    def labels(self, y: np.ndarray) -> torch.Tensor:
        return torch.as_tensor(y, dtype=torch.int64, device=self.device)

    def take(self, t: torch.Tensor, idx: np.ndarray) -> torch.Tensor:
        return t[torch.as_tensor(idx, device=self.device)]

    # --- compute ----------------------------------------------------------------------
    def _loss(self, x, y):
        with torch.autocast(**self.autocast):
            logits = self.forward(x)
        return F.cross_entropy(logits.float(), y)

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
        with torch.inference_mode(), torch.autocast(**self.autocast):
            return self.forward(x).float()

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


def bare_loop(spec: PipelineSpec, batch_size: int, device: str = "cpu"):
    """The same model in a bare training loop on synthetic tensors (timm's benchmark.py style):
    no Trainer, no preprocessing, no rate schedule. Returns ``timed(steps)``: the seconds per
    step of ``steps`` more steps, synchronised (warmed up already)."""
    import time

    torch.set_num_threads(threads())
    dev = select_device(device)
    model = TokFragEncoder(spec).to(dev)
    opt = torch.optim.AdamW(model.parameters(), lr=spec.train.lr, weight_decay=spec.train.weight_decay)
    if spec.representation == "fragment":
        x = torch.rand(batch_size, spec.seq_len, spec.input_dim, device=dev)
    else:
        x = torch.randint(0, spec.input_dim, (batch_size, spec.seq_len), device=dev)
    y = torch.randint(0, spec.dataset.num_classes, (batch_size,), device=dev)

    def step():
        opt.zero_grad(set_to_none=True)
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
        return loss

    for _ in range(3):
        step().item()

    def timed(steps: int) -> float:
        start = time.perf_counter()
        for _ in range(steps):
            loss = step()
        loss.item()
        return (time.perf_counter() - start) / steps

    return timed


def matmul_peak(device: str = "cpu", precision: str = "fp32", n: int = 2048, seconds: float = 1.0) -> float:
    """FLOP/s of repeated square matmuls, up to n x n: the probe of the machine's peak for MFU."""
    from tokfrag.flops import probe_peak

    dev = select_device(device)
    dtype = torch.bfloat16 if precision == "bf16" else torch.float32
    torch.set_num_threads(threads())

    def matmul_at(size: int):
        a, b = (torch.randn(size, size, device=dev, dtype=dtype) for _ in range(2))
        return lambda: (a @ b)[:1, :1].sum().item()

    return probe_peak(matmul_at, n, seconds)


def versions() -> dict[str, str]:
    import timm

    out = {"torch": torch.__version__, "timm": timm.__version__}
    if torch.cuda.is_available():
        out["cuda"] = torch.version.cuda or ""
        out["gpu"] = torch.cuda.get_device_name(0)
    return out
