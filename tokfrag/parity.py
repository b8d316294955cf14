"""Cross-framework equivalence, checked against stated tolerances for every registered pipeline.

Checks (CPU, float32), each a pass/fail against its tolerance:

=============  ==============================================================  =========================
check          what is compared                                                tolerance
=============  ==============================================================  =========================
structure      parameter names and canonical shapes, torch vs TF vs the spec    exact (0 mismatches)
preprocess     token ids (whole test split) / fragments vs the numpy reference  ids exact; fragments 1e-6
forward pt->tf torch weights ported into TF by name; logits on a fixed batch    atol 1e-4
forward tf->pt Keras-initialised weights ported into torch; logits              atol 1e-4
gradients      every parameter's gradient after one backward pass               1e-5 + 1e-3 * max|g|
trajectory     loss at each of 20 AdamW steps on identical batches             rtol 1e-3
final weights  every parameter after those 20 steps                            atol 1e-3
=============  ==============================================================  =========================

A framework that is not installed gives "not checked (<framework> missing)", never "pass".
"""

from __future__ import annotations

import json
import platform
import sys
from dataclasses import dataclass, field

import numpy as np

from . import frameworks, params, reference
from .catalog import get_pipeline
from .spec import PipelineSpec, registered

FRAGMENT_ATOL = 1e-6
LOGITS_ATOL = 1e-4
GRAD_ATOL, GRAD_RTOL = 1e-5, 1e-3
LOSS_RTOL = 1e-3
WEIGHTS_ATOL = 1e-3
TRAJECTORY_STEPS = 20
FIXED_BATCH = 64
PARITY_CHUNK = 1000  # test samples preprocessed at a time
PORT_SEED = 12345  # weights for the forward checks differ from the training initialisation

CHECKS = ("structure", "preprocess pytorch", "preprocess tensorflow", "forward pt->tf", "forward tf->pt",
          "gradients", "trajectory loss", "trajectory weights")


@dataclass
class Row:
    pipeline: str
    check: str
    status: str  # "pass", "fail" or "not checked (...)"
    max_diff: float | None
    tolerance: str
    detail: str = ""

    def as_dict(self) -> dict:
        return dict(self.__dict__)


@dataclass
class Report:
    rows: list = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(r.status == "pass" for r in self.rows)

    def pipelines(self) -> dict[str, str]:
        """pipeline -> "pass" | "fail" | "not checked": one badge per pipeline."""
        out: dict[str, str] = {}
        for r in self.rows:
            s = "pass" if r.status == "pass" else ("fail" if r.status == "fail" else "not checked")
            prev = out.get(r.pipeline, "pass")
            out[r.pipeline] = ("fail" if "fail" in (prev, s)
                               else "not checked" if "not checked" in (prev, s) else "pass")
        return out

    def as_dict(self) -> dict:
        from .machine import describe, framework_versions

        return {"schema": 1, "machine": describe(), "python": platform.python_version(),
                "versions": framework_versions(), "pipelines": self.pipelines(),
                "rows": [r.as_dict() for r in self.rows]}

    def table(self) -> str:
        lines = [f"{'pipeline':22s} {'check':22s} {'largest diff':>13s}  {'tolerance':24s} status"]
        for r in self.rows:
            diff = "-" if r.max_diff is None else f"{r.max_diff:.3g}"
            status = r.status.upper() if r.status == "fail" else r.status
            line = f"{r.pipeline:22s} {r.check:22s} {diff:>13s}  {r.tolerance:24s} {status}"
            if r.detail and r.status != "pass":
                line += f"  ({r.detail})"
            lines.append(line)
        return "\n".join(lines)


def _status(ok: bool) -> str:
    return "pass" if ok else "fail"


# Preprocessing results, measured once per process: they depend on the data and on what the
# preprocessing reads of the spec (not on the backbone or the encoder), so a pipeline under another
# backbone reuses its base pipeline's. The key says exactly that (``_preprocess_key``).
_PREPROCESSED: dict[tuple, tuple] = {}


def _preprocess_key(spec: PipelineSpec, framework: str, prepared) -> tuple:
    return (framework, prepared.fingerprint, spec.dataset, spec.representation, spec.windows, spec.codebook)


def _check_preprocess(spec: PipelineSpec, trainer, prepared, codebook) -> tuple:
    """(ok, largest difference, tolerance, detail) of one framework's preprocessing of the test split."""
    wrong, worst, total = 0, 0.0, 0
    for i in range(0, len(prepared.test_y), PARITY_CHUNK):
        raw = prepared.test_x[i:i + PARITY_CHUNK]
        ref = reference.preprocess(spec, raw, codebook)
        got = np.asarray(trainer.preprocess(trainer.upload(raw)))
        if got.shape != ref.shape:
            return False, None, "shape", f"shape {got.shape}, reference {ref.shape}"
        total += ref.size
        if spec.representation == "token":
            wrong += int((got != ref).sum())
        else:
            worst = max(worst, float(np.abs(got - ref).max()))
    if spec.representation == "token":
        return wrong == 0, wrong, "exact ids", f"{wrong} of {total} ids differ" if wrong else f"{total} ids"
    return worst <= FRAGMENT_ATOL, worst, f"atol {FRAGMENT_ATOL:g}", ""


@dataclass
class Setting:
    """What every check of one pipeline shares: both frameworks' trainers from the same seeded weights
    (``start``), the prepared data and a fixed batch preprocessed by the reference (both sides see the
    same input). ``tf_spec`` differs from ``spec`` only where a test gives TensorFlow a defect."""

    spec: PipelineSpec
    tf_spec: PipelineSpec
    impls: dict
    prepared: object
    codebook: object
    start: dict
    pt: object = None
    tf: object = None
    xb: np.ndarray = None
    yb: np.ndarray = None

    def trainer(self, framework: str, weights=None):
        side = self.spec if framework == "pytorch" else self.tf_spec
        return self.impls[framework].Trainer(side, codebook=self.codebook, weights=self.start if weights is None
                                             else weights)

    def inputs(self, trainer, x):
        return trainer.tensor(x if self.spec.representation == "token" else x.astype(np.float32))

    def row(self, check, ok, diff, tol, detail="") -> Row:
        return Row(self.spec.name, check, _status(ok), None if diff is None else float(diff), tol, detail)


def _structure(s: Setting) -> list[Row]:
    """Parameter names and canonical shapes, torch against TF against the spec; the counts."""
    canon = {n: tuple(v) for n, v in params.shapes(s.spec).items()}
    got_pt = {n: tuple(v.shape) for n, v in s.pt.parameters().items()}
    got_tf = {n: tuple(v.shape) for n, v in s.tf.parameters().items()}
    bad = sorted(n for n in set(canon) | set(got_pt) | set(got_tf)
                 if not (canon.get(n) == got_pt.get(n) == got_tf.get(n)))
    n_pt, n_tf = sum(int(np.prod(v)) for v in got_pt.values()), sum(int(np.prod(v)) for v in got_tf.values())
    mismatched = (f"{n} (spec {canon.get(n)}, torch {got_pt.get(n)}, tf {got_tf.get(n)})" for n in bad[:4])
    detail = (f"mismatched: {', '.join(mismatched)}"
              if bad else f"{len(canon)} tensors, {n_pt} parameters")
    if n_pt != n_tf:
        detail += f"; counts differ: torch {n_pt}, tf {n_tf}"
    return [s.row("structure", not bad and n_pt == n_tf == params.count(s.spec), len(bad) + abs(n_pt - n_tf),
                  "exact", detail)]


def _preprocess(s: Setting) -> list[Row]:
    """Each framework's preprocessing of the whole test split against the numpy reference (in chunks:
    bounded memory)."""
    rows = []
    for name, trainer, side in (("pytorch", s.pt, s.spec), ("tensorflow", s.tf, s.tf_spec)):
        key = _preprocess_key(side, name, s.prepared)
        if key not in _PREPROCESSED:
            _PREPROCESSED[key] = _check_preprocess(side, trainer, s.prepared, s.codebook)
        ok, diff, tol, detail = _PREPROCESSED[key]
        if s.spec.base_name != s.spec.name:
            detail = f"{detail}; as {s.spec.base_name} (same preprocessing)".lstrip("; ")
        rows.append(s.row(f"preprocess {name}", ok, diff, tol, detail))
    return rows


def _forward(s: Setting) -> list[Row]:
    """Logits on the fixed batch with torch's weights ported into TF by name, and with Keras' own
    initialisation ported into torch."""
    why = "logits differ: check norm epsilon, GELU form, weight layout"
    pt_logits = np.asarray(s.pt.logits(s.inputs(s.pt, s.xb)))
    s.tf.load(s.pt.parameters())  # torch -> TF by name
    diff = float(np.abs(np.asarray(s.tf.logits(s.inputs(s.tf, s.xb))) - pt_logits).max())
    rows = [s.row("forward pt->tf", diff <= LOGITS_ATOL, diff, f"atol {LOGITS_ATOL:g}",
                  why if diff > LOGITS_ATOL else "")]
    native_tf = s.trainer("tensorflow", weights="native")
    tf_logits = np.asarray(native_tf.logits(s.inputs(native_tf, s.xb)))
    pt2 = s.trainer("pytorch", weights=native_tf.parameters())  # TF -> torch by name
    diff = float(np.abs(np.asarray(pt2.logits(s.inputs(pt2, s.xb))) - tf_logits).max())
    rows.append(s.row("forward tf->pt", diff <= LOGITS_ATOL, diff, f"atol {LOGITS_ATOL:g}",
                      why if diff > LOGITS_ATOL else ""))
    return rows


def _gradients(s: Setting) -> list[Row]:
    """Every parameter's gradient after one backward pass from the same weights."""
    s.tf.load(s.start)
    s.pt.load(s.start)
    _, g_pt = s.pt.gradients(s.inputs(s.pt, s.xb), s.pt.labels(s.yb))
    _, g_tf = s.tf.gradients(s.inputs(s.tf, s.xb), s.tf.labels(s.yb))
    worst, worst_name, worst_tol, ok = 0.0, "", 0.0, True
    for n in g_pt:
        d = float(np.abs(g_pt[n] - g_tf[n]).max())
        tol = GRAD_ATOL + GRAD_RTOL * float(np.abs(g_pt[n]).max())
        if d > tol:
            ok = False
        if d / tol >= worst / max(worst_tol, 1e-30) or not worst_name:
            worst, worst_name, worst_tol = d, n, tol
    return [s.row("gradients", ok, worst, f"{GRAD_ATOL:g} + {GRAD_RTOL:g}*max|g|",
                  f"closest to its tolerance: {worst_name} ({worst:.3g} vs {worst_tol:.3g})")]


def _trajectory(s: Setting) -> list[Row]:
    """The loss at each of ``TRAJECTORY_STEPS`` AdamW steps on identical batches and rates, then every
    weight."""
    from .training import batch_order

    pt, tf = s.trainer("pytorch"), s.trainer("tensorflow")
    y_all = s.prepared.train_y
    t = s.spec.train
    order = batch_order(t.seed, 0, len(y_all))
    total = t.total_steps(len(y_all))
    worst_rel, worst_step = 0.0, 0
    for step in range(TRAJECTORY_STEPS):
        idx = order[(step * t.batch_size) % len(y_all):][: t.batch_size]
        lr = t.lr_at(step, total)
        x = reference.preprocess(s.spec, s.prepared.train_x[idx], s.codebook)
        a = pt.sync(pt.train_step(s.inputs(pt, x), pt.labels(y_all[idx]), lr))
        b = tf.sync(tf.train_step(s.inputs(tf, x), tf.labels(y_all[idx]), lr))
        rel = abs(a - b) / max(abs(a), 1e-12)
        if rel >= worst_rel:
            worst_rel, worst_step = rel, step
    w_pt, w_tf = pt.parameters(), tf.parameters()
    name = max(w_pt, key=lambda n: float(np.abs(w_pt[n] - w_tf[n]).max()))
    diff = float(np.abs(w_pt[name] - w_tf[name]).max())
    return [s.row("trajectory loss", worst_rel <= LOSS_RTOL, worst_rel, f"rtol {LOSS_RTOL:g} at every step",
                  f"{TRAJECTORY_STEPS} steps; largest at step {worst_step}"),
            s.row("trajectory weights", diff <= WEIGHTS_ATOL, diff, f"atol {WEIGHTS_ATOL:g}", f"largest in {name}")]


# The checks in order: (the rows' check names, the function that gives them). CHECKS follows from it.
CHECK_TABLE = (
    (("structure",), _structure),
    (("preprocess pytorch", "preprocess tensorflow"), _preprocess),
    (("forward pt->tf", "forward tf->pt"), _forward),
    (("gradients",), _gradients),
    (("trajectory loss", "trajectory weights"), _trajectory),
)
assert CHECKS == tuple(c for names, _ in CHECK_TABLE for c in names)


def check_pipeline(spec: PipelineSpec, tf_spec: PipelineSpec | None = None, through: str = CHECKS[-1]) -> list[Row]:
    """The checks for one pipeline (``CHECK_TABLE``), in ``CHECKS`` order up to the one that gives
    ``through`` (default: all of them). ``tf_spec`` lets a test give the TF side a deliberate defect."""
    from . import data

    missing = [fw for fw in frameworks.FRAMEWORKS if not frameworks.installed(fw)]
    if missing:
        why = f"not checked ({', '.join(missing)} missing)"
        return [Row(spec.name, c, why, None, "-") for c in CHECKS]
    prepared = data.load(spec.dataset.name)
    prepared.check(spec)
    s = Setting(spec, tf_spec or spec, {fw: frameworks.get(fw) for fw in frameworks.FRAMEWORKS}, prepared,
                prepared.codebook(spec) if spec.codebook is not None else None, params.initial(spec, seed=PORT_SEED))
    s.pt, s.tf = s.trainer("pytorch"), s.trainer("tensorflow")
    s.xb = reference.preprocess(spec, prepared.test_x[:FIXED_BATCH], s.codebook)
    s.yb = prepared.test_y[:FIXED_BATCH]
    rows: list[Row] = []
    for names, check in CHECK_TABLE:
        rows += check(s)
        if through in names:
            break
    return rows


WORKERS = 2  # the workers axis' equivalence check: 2 data-parallel workers (one CPU thread each on 2 cores)


def _trajectory_rows(spec, label: str, a: dict, b: dict) -> list[Row]:
    """Two trajectories (``tokfrag.workers.trajectory`` outputs) under the parity tolerances: the
    loss at every step (rtol) and every final weight (atol)."""
    la, lb = np.asarray(a["losses"]), np.asarray(b["losses"])
    rel = np.abs(la - lb) / np.maximum(np.abs(la), 1e-12)
    step = int(rel.argmax())
    wa = {n: np.asarray(v, np.float32) for n, v in a["weights"].items()}
    wb = {n: np.asarray(v, np.float32) for n, v in b["weights"].items()}
    worst = max(wa, key=lambda n: float(np.abs(wa[n] - wb[n]).max()))
    diff = float(np.abs(wa[worst] - wb[worst]).max())
    return [Row(spec.name, f"{label} loss", _status(float(rel.max()) <= LOSS_RTOL), float(rel.max()),
                f"rtol {LOSS_RTOL:g} at every step", f"{len(la)} steps; largest at step {step}"),
            Row(spec.name, f"{label} weights", _status(diff <= WEIGHTS_ATOL), diff, f"atol {WEIGHTS_ATOL:g}",
                f"largest in {worst}")]


def check_workers(spec: PipelineSpec, n: int = WORKERS) -> list[Row]:
    """The workers axis: ``n`` data-parallel workers (PyTorch DDP, TensorFlow
    MultiWorkerMirroredStrategy; ``tokfrag.workers``) follow the 1-worker trajectory in each
    framework (20 steps from the same seeded weights, each batch split into ``n`` shards), and
    PyTorch with ``n`` workers follows TensorFlow with ``n``."""
    from .workers import launch, trajectory

    labels = [f"{n} workers {fw}" for fw in frameworks.FRAMEWORKS] + [f"{n} workers pt vs tf"]
    missing = [fw for fw in frameworks.FRAMEWORKS if not frameworks.installed(fw)]
    if missing:
        why = f"not checked ({', '.join(missing)} missing)"
        return [Row(spec.name, f"{label} {what}", why, None, "-") for label in labels for what in ("loss", "weights")]
    rows, many = [], {}
    for fw in frameworks.FRAMEWORKS:  # PyTorch first (torch's imports after TensorFlow's can crash)
        one = trajectory(fw, spec, TRAJECTORY_STEPS)
        job = {"kind": "trajectory", "framework": fw, "pipeline": spec.name, "steps": TRAJECTORY_STEPS}
        many[fw] = launch(job, n, timeout=900)[0]
        rows += _trajectory_rows(spec, f"{n} workers {fw}", one, many[fw])
    rows += _trajectory_rows(spec, f"{n} workers pt vs tf", many["pytorch"], many["tensorflow"])
    return rows


def run(names: list[str] | None = None, workers: int = 0) -> Report:
    """Every check of each pipeline (default: all registered); with ``workers`` (>1) also the
    workers check (``check_workers``) of each."""
    specs = [get_pipeline(n) for n in names] if names else list(registered().values())
    report = Report()
    for spec in specs:
        report.rows.extend(check_pipeline(spec))
        if workers > 1:
            report.rows.extend(check_workers(spec, workers))
    return report


def add_parser(sub) -> None:
    s = sub.add_parser(
        "parity", help="check that the PyTorch and TensorFlow implementations are equivalent",
        description="For each pipeline (default: all registered), compare the two frameworks on CPU in "
                    "float32: parameter structure, preprocessing vs the numpy reference, forward logits "
                    "with weights ported both ways, gradients, and a 20-step AdamW trajectory. Prints "
                    "the largest difference, the tolerance and pass/fail per check; exits 1 on any "
                    "failure or unchecked pipeline.")
    s.add_argument("pipeline", nargs="*",
                   help="pipeline name(s), e.g. mnist/token or mnist/token+lstm (default: every pipeline under "
                        "every backbone)")
    s.add_argument("--dataset", metavar="NAME", action="append", default=[],
                   help="every pipeline of this dataset under every backbone: embedded (mnist, video, text) or "
                        "prepared of your own (tokfrag prepare KIND --source PATH --name NAME); repeatable")
    s.add_argument("--workers", type=int, default=0, metavar="N",
                   help=f"also check N data-parallel workers (e.g. {WORKERS}): each framework's N-worker 20-step "
                        "trajectory against its 1-worker one, and PyTorch's against TensorFlow's")
    s.add_argument("--json", metavar="FILE", help="also write the report as JSON to FILE ('-' for stdout)")
    s.set_defaults(func=cmd_parity)


def dataset_pipelines(name: str) -> list[str]:
    """Every pipeline of dataset ``name`` (embedded or one's own) under every backbone: its default
    pipelines first, then ``<pipeline>+<backbone>`` for each other backbone."""
    from .backbones import names
    from .catalog import pipelines_of
    from .names import pipeline_name

    base = pipelines_of(name)  # UnknownName, with the fix, for a dataset that is not prepared
    default = get_pipeline(base[0]).backbone.name
    return base + [pipeline_name(p, b) for p in base for b in names() if b != default]


def cmd_parity(args) -> int:
    names = list(args.pipeline) + [p for d in dict.fromkeys(args.dataset) for p in dataset_pipelines(d)]
    for n in names:
        get_pipeline(n)  # unknown -> UnknownName listing the valid names
    report = run(list(dict.fromkeys(names)) or None, workers=args.workers)
    text = json.dumps(report.as_dict(), indent=2)
    if args.json == "-":
        print(text)
    else:
        print(report.table())
        if args.json:
            with open(args.json, "w") as f:
                f.write(text + "\n")
            print(f"wrote {args.json}", file=sys.stderr)
    return 0 if report.ok else 1
