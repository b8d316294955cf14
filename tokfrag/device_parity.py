"""PyTorch on a device against PyTorch on the CPU: the same network, from the same weights, on the same
batch, must give the same preprocessing, logits, loss and gradients, within stated tolerances.

Checks (float32, TF32 off as in every Trainer: ``torch.set_float32_matmul_precision("highest")``):

=============  =============================================================  ============================
check          what is compared                                               tolerance
=============  =============================================================  ============================
preprocess     the fixed batch's token ids / fragments, device vs CPU          ids exact; fragments 1e-6
forward        logits of the fixed batch (the CPU's preprocessing as input)    atol 1e-4
loss           cross-entropy of that batch                                    rtol 1e-5
gradients      every parameter's gradient after one backward pass             1e-5 + 1e-3 * max|g|
=============  =============================================================  ============================

These are the cross-framework tolerances of ``tokfrag.parity`` (loss: tighter, it is one number): the
device's kernels may sum in another order than the CPU's, no more. ``device="cpu"`` compares two CPU
trainers built apart (run-to-run reproducibility): what the CPU rehearsal of the GPU run checks.
"""

from __future__ import annotations

import numpy as np

from .parity import FIXED_BATCH, FRAGMENT_ATOL, GRAD_ATOL, GRAD_RTOL, LOGITS_ATOL, PORT_SEED, Row, _status
from .spec import PipelineSpec

LOSS_RTOL = 1e-5
CHECKS = ("preprocess", "forward", "loss", "gradients")
FRAMEWORK = "pytorch"  # the frameworks on the lent GPU machines: PyTorch only (no TensorFlow there)


def check_pipeline(spec: PipelineSpec, device: str = "gpu") -> list[Row]:
    """The four checks of one pipeline, ``device`` against the CPU, in ``CHECKS`` order."""
    from . import data, frameworks, params, reference

    impl = frameworks.get(FRAMEWORK)
    prepared = data.load(spec.dataset.name)
    prepared.check(spec)
    codebook = prepared.codebook(spec) if spec.codebook is not None else None
    start = params.initial(spec, seed=PORT_SEED)
    ref = impl.Trainer(spec, device="cpu", codebook=codebook, weights=start)
    dev = impl.Trainer(spec, device=device, codebook=codebook, weights=start)
    label = f"{device} vs cpu"
    rows: list[Row] = []

    def add(check, ok, diff, tol, detail=""):
        rows.append(Row(spec.name, f"{check} {label}", _status(ok), None if diff is None else float(diff), tol,
                        detail))

    raw, yb = prepared.test_x[:FIXED_BATCH], prepared.test_y[:FIXED_BATCH]
    a = np.asarray(ref.preprocess(ref.upload(raw)).cpu())
    b = np.asarray(dev.preprocess(dev.upload(raw)).cpu())
    if a.shape != b.shape:
        add("preprocess", False, None, "shape", f"shape {b.shape}, cpu {a.shape}")
    elif spec.representation == "token":
        wrong = int((a != b).sum())
        add("preprocess", wrong == 0, wrong, "exact ids", f"{wrong} of {a.size} ids differ" if wrong else "")
    else:
        diff = float(np.abs(a.astype(np.float64) - b).max())
        add("preprocess", diff <= FRAGMENT_ATOL, diff, f"atol {FRAGMENT_ATOL:g}")

    # the model's input: the numpy reference's preprocessing, the same array on both devices
    xb = reference.preprocess(spec, raw, codebook)
    if spec.representation != "token":
        xb = xb.astype(np.float32)
    la = np.asarray(ref.logits(ref.tensor(xb)).cpu())
    lb = np.asarray(dev.logits(dev.tensor(xb)).cpu())
    diff = float(np.abs(la - lb).max())
    add("forward", diff <= LOGITS_ATOL, diff, f"atol {LOGITS_ATOL:g}")

    loss_a, ga = ref.gradients(ref.tensor(xb), ref.labels(yb))
    loss_b, gb = dev.gradients(dev.tensor(xb), dev.labels(yb))
    rel = abs(loss_a - loss_b) / max(abs(loss_a), 1e-12)
    add("loss", rel <= LOSS_RTOL, rel, f"rtol {LOSS_RTOL:g}", f"cpu {loss_a:.6g}, {device} {loss_b:.6g}")
    worst, worst_name, worst_ratio, ok = 0.0, "", -1.0, True
    for n in ga:
        d = float(np.abs(ga[n] - gb[n]).max())
        tol = GRAD_ATOL + GRAD_RTOL * float(np.abs(ga[n]).max())
        ok = ok and d <= tol
        if d / tol > worst_ratio:
            worst, worst_name, worst_ratio = d, n, d / tol
    add("gradients", ok, worst, f"{GRAD_ATOL:g} + {GRAD_RTOL:g}*max|g|",
        f"{len(ga)} tensors; closest to its tolerance: {worst_name} ({worst_ratio:.2g} of it)")
    return rows


def failures(names: list[str], devices: list[str]) -> dict:
    """{device: {pipeline: failed checks, or the error it raised}} for every device of ``devices`` that is
    usable here; {device: "skip: why"} for one that is not (no GPU, no PyTorch)."""
    from . import frameworks
    from .catalog import get_pipeline

    out: dict = {}
    for device in devices:
        try:
            frameworks.require_device(device)
            frameworks.get(FRAMEWORK).select_device(device)
        except frameworks.Unavailable as e:
            out[device] = f"skip: {e}"
            continue
        out[device] = {}
        for name in names:
            try:
                rows = check_pipeline(get_pipeline(name), device)
                out[device][name] = {"failed": sum(r.status != "pass" for r in rows),
                                     "rows": [r.as_dict() for r in rows]}
            except Exception as e:  # noqa: BLE001 - recorded, and raised by this pipeline's benchmark only
                out[device][name] = f"{type(e).__name__}: {e}"
    return out
