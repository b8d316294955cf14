"""The PyTorch Trainer: tensors, one AdamW step, inference and memory, on one device.

What every framework shares (argument checks, codebook set-up, dispatch by preprocessing,
chunked inference) is ``tokfrag.trainer.Trainer``; this file holds what is PyTorch's own. The
shared training loop (``tokfrag.training``) drives either framework with the same batches and rates.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from tokfrag import trainer
from tokfrag.frameworks import DeviceUnavailable, threads
from tokfrag.spec import MODES, PRECISIONS, PipelineSpec  # noqa: F401 (MODES, PRECISIONS: the contract's)

from . import preprocess
from .model import TokFragEncoder, load_parameters, named_parameters

OOM_ERRORS = (torch.OutOfMemoryError,)


def select_device(device: str) -> torch.device:
    if device == "cpu":
        return torch.device("cpu")
    if device == "gpu":
        if not torch.cuda.is_available():
            raise DeviceUnavailable("no GPU: torch.cuda.is_available() is False")
        return torch.device("cuda", 0)
    raise ValueError(f"unknown device {device!r}; valid devices: cpu, gpu")


def shareable(x: np.ndarray) -> np.ndarray:
    """A contiguous array a tensor may share memory with. The prepared splits are read-only (memory-mapped
    Arrow data), and a CPU tensor over read-only memory is undefined behaviour on write (torch warns "The
    given NumPy array is not writable"): such an array is copied, once per batch, as ``.to(cuda)`` would."""
    x = np.ascontiguousarray(x)
    return x if x.flags.writeable else x.copy()


class Trainer(trainer.Trainer):
    framework = "pytorch"
    ops = preprocess

    def open_device(self, device: str) -> torch.device:
        torch.set_num_threads(threads())
        torch.set_float32_matmul_precision("highest")  # no TF32: exact token distances on GPU
        dev = select_device(device)
        if self.group is not None and dev.type == "cuda":
            dev = torch.device("cuda", self.group.local_rank)  # torchrun: one GPU per local rank
        return dev

    def build_model(self) -> TokFragEncoder:
        return TokFragEncoder(self.spec).to(self.device)

    def build_optimizer(self) -> torch.optim.AdamW:
        named = list(self.model.named_parameters())
        t = self.spec.train
        return torch.optim.AdamW(
            [{"params": [p for n, p in named if self.decays(n)], "weight_decay": t.weight_decay},
             {"params": [p for n, p in named if not self.decays(n)], "weight_decay": 0.0}],
            lr=t.lr, betas=tuple(t.betas), eps=t.eps,
        )

    def compile(self) -> None:
        self.forward = torch.compile(self.model) if self.mode == "compiled" else self.model
        self.train_forward = self.forward
        if self.group is not None:
            # DistributedDataParallel: its all-reduce averages the workers' gradients during backward
            from torch.nn.parallel import DistributedDataParallel

            ddp = DistributedDataParallel(self.model, device_ids=[self.device] if self.device.type == "cuda" else None)
            self.train_forward = torch.compile(ddp) if self.mode == "compiled" else ddp
        # bf16: autocast (matmuls in bfloat16, weights and optimizer in float32)
        self.autocast = dict(device_type=self.device.type, dtype=torch.bfloat16, enabled=self.precision == "bf16")

    # --- data -------------------------------------------------------------------------
    def byte_fragments(self, texts) -> torch.Tensor:
        length = self.spec.dataset.signal_shape[0]
        return preprocess.byte_fragments(preprocess.text_bytes(texts, length).to(self.device), self.spec.windows)

    def word_ids(self, texts) -> torch.Tensor:
        return self.codebook(texts).to(self.device)  # words -> ids on the host, then uploaded

    def preprocessing_scope(self):
        return torch.no_grad()

    def upload(self, x: np.ndarray):
        """Samples to the device: uint8 arrays as tensors; texts stay host strings (torch has none)."""
        if self.spec.dataset.kind == "text":
            return list(x)
        return torch.from_numpy(shareable(x)).to(self.device)

    def tensor(self, x: np.ndarray) -> torch.Tensor:
        return torch.from_numpy(shareable(x)).to(self.device)

    def labels(self, y: np.ndarray) -> torch.Tensor:
        return torch.from_numpy(shareable(y)).to(self.device, torch.int64)

    def take(self, t: torch.Tensor, idx: np.ndarray) -> torch.Tensor:
        return t[torch.as_tensor(idx, device=self.device)]

    def concat(self, parts: list) -> torch.Tensor:
        return torch.cat(parts)

    # --- compute ----------------------------------------------------------------------
    def _loss(self, x, y):
        with torch.autocast(**self.autocast):
            logits = self.train_forward(x)
        return F.cross_entropy(logits.float(), y)

    def train_step(self, x: torch.Tensor, y: torch.Tensor, lr: float) -> torch.Tensor:
        self.model.train()
        for g in self.optimizer.param_groups:
            g["lr"] = lr
        self.optimizer.zero_grad(set_to_none=True)
        loss = self._loss(x, y)
        loss.backward()
        self.optimizer.step()
        return loss.detach()

    def global_loss(self, loss: torch.Tensor) -> torch.Tensor:
        if self.group is None:
            return loss
        import torch.distributed as dist

        total = loss.detach().clone()
        dist.all_reduce(total)  # equal shards: the mean of the workers' means
        return total / self.group.size

    def logits(self, x: torch.Tensor) -> torch.Tensor:
        self.model.eval()
        with torch.inference_mode(), torch.autocast(**self.autocast):
            return self.forward(x).float()

    def argmax(self, logits: torch.Tensor) -> np.ndarray:
        return logits.argmax(-1).cpu().numpy()

    def sync(self, value=None) -> float | None:
        if value is not None:
            return float(value.item())  # .item() synchronises
        if self.device.type == "cuda":
            torch.cuda.synchronize(self.device)
        return None

    # --- parameters (for parity) ------------------------------------------------------
    def parameters(self) -> dict[str, np.ndarray]:
        return named_parameters(self.model)

    def load(self, values: dict[str, np.ndarray]) -> None:
        load_parameters(self.model, values)

    def gradients(self, x: torch.Tensor, y: torch.Tensor) -> tuple[float, dict[str, np.ndarray]]:
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
        if self.device.type == "cuda":
            return int(torch.cuda.max_memory_allocated(self.device))
        return None


def join_workers(rank: int, size: int, local_rank: int, device: str) -> None:
    """``torch.distributed``'s process group from torchrun's environment (MASTER_ADDR, MASTER_PORT):
    gloo on CPU, NCCL on GPU."""
    import torch.distributed as dist

    if device == "gpu":
        torch.cuda.set_device(local_rank)
    if not dist.is_initialized():
        dist.init_process_group("nccl" if device == "gpu" else "gloo", init_method="env://", rank=rank,
                                world_size=size)
    return None


def leave_workers(group) -> None:
    import torch.distributed as dist

    if dist.is_initialized():
        dist.destroy_process_group()


def bare_step(spec: PipelineSpec, batch_size: int, device: str = "cpu"):
    """The model's plain AdamW step on synthetic tensors, and how to wait for its loss
    (``tokfrag.trainer.Framework.bare_step``)."""
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

    return step, lambda loss: loss.item()


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
