"""On a lent GPU machine: the PyTorch half of the GPU matrix, into asv results, within a time budget.

    python3 gpu/run.py                          # on the lent machine (carry .gpu-carry, from `make gpu-wheels`)
    python3 gpu/run.py --device cpu --smoke     # the CPU rehearsal of the same (make gpu-rehearsal)

Needs a python that already holds PyTorch (with CUDA for --device gpu), and .gpu-carry/ beside this
folder's parent. In order:

1. installs the carried wheels this python lacks, then tokfrag itself, without dependencies and from no
   index, into a folder of their own (``--site``), and runs on from there;
2. unpacks the prepared data (.gpu-carry/data.tar.gz) into datasets/cache/ and checks each pipeline's data
   fingerprint;
3. names the machine after its GPU (``lent-<GPU model>``; another name where results/ already records
   other hardware under it) and records it for asv, as `tokfrag bench` does;
4. runs asv (``asv run --python=same``, through gpu/asv_carried.py) phase by phase, the most valuable
   figures first, each phase a separate asv run whose results are saved when it ends:

   parity    PyTorch on the device against the CPU: preprocessing, logits, loss, gradients (bench_devices)
   step      per pipeline: preprocessing, training-step and inference times (synchronised) and peak device
             memory (bench_pipelines.Step, DeviceMemory)
   train     per pipeline: one training run, seed 0 (accuracy, throughput, time to target, batch size, peak
             host memory; bench_pipelines.Training)
   perf      the matmul peak in fp32 and bf16, then the largest pipeline (video/fragment) in default and
             compiled mode, fp32 and bf16: step time, first step, FLOP/s, MFU (bench_perf.Peak, Modes)

   A phase starts only while the budget (``--budget`` seconds from this script's start) leaves room for
   it, and is stopped at the budget's end; what earlier phases wrote stays.
5. leaves results/<machine>/ (asv's machine.json and ``<commit>-existing-*.json``, learning curves, and
   this run's log ``gpu-<commit>.log``), copied to ``--out`` (default ``$OUT``, where the device tool
   fetches files from) after every phase.
"""

from __future__ import annotations

import argparse
import datetime
import importlib.metadata
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tarfile
import threading
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
try:  # the TOKFRAG_* variables (tokfrag.config: the standard library only)
    from tokfrag import config
except ImportError:  # before the first run installs tokfrag here: the checkout's own copy
    sys.path.append(str(ROOT))
    from tokfrag import config
START = time.monotonic()
LARGEST = "video/fragment"  # the largest default pipeline (most FLOPs per sample): bench_perf's subject
PERF_ORDER = [("default", "fp32"), ("default", "bf16"), ("compiled", "fp32"), ("compiled", "bf16")]
PHASES = ("parity", "step", "train", "perf")
NEEDED = ("asv", "asv_runner", "datasets", "tokenizers", "torch", "timm", "torch_geometric", "numpy", "pandas",
          "pyarrow", "scipy", "tqdm", "PIL")


# --- 1. install ---------------------------------------------------------------------------

def dist_name(wheel: Path) -> str:
    return re.sub(r"[-_.]+", "-", wheel.name.split("-", 1)[0]).lower()


def installed(name: str) -> bool:
    try:
        importlib.metadata.distribution(name)
        return True
    except importlib.metadata.PackageNotFoundError:
        return False


def bootstrap(args, argv: list[str]) -> None:
    """Install what is missing into ``args.site``, then re-run this script with it on PYTHONPATH."""
    site = Path(args.site).resolve()
    wheels = sorted((args.carry / "wheels").glob("*.whl"))
    if not wheels:
        sys.exit(f"no wheels in {args.carry / 'wheels'}: run `make gpu-wheels` here first and carry {args.carry.name}")
    missing = [w for w in wheels if not installed(dist_name(w))]
    log(f"python {sys.version.split()[0]} at {sys.executable}; {len(wheels)} carried wheels, installing the "
        f"{len(missing)} it lacks: {', '.join(dist_name(w) for w in missing) or 'none'}")
    if site.exists():
        shutil.rmtree(site)
    env = dict(os.environ, PIP_NO_INDEX="1", PIP_DISABLE_PIP_VERSION_CHECK="1")
    pip = [sys.executable, "-m", "pip", "install", "-q", "--no-index", "--no-deps", "--no-compile", "--no-cache-dir",
           "--upgrade", "--target", str(site)]
    if missing:
        subprocess.run(pip + [str(w) for w in missing], check=True, env=env)
    env["PYTHONPATH"] = os.pathsep.join([str(site), *filter(None, [os.environ.get("PYTHONPATH")])])
    # tokfrag itself, without its dependencies (TensorFlow and the rest are not there)
    subprocess.run(pip + ["--no-build-isolation", str(ROOT)], check=True, env=env, cwd=ROOT,
                   stdout=subprocess.DEVNULL)
    log(f"installed tokfrag (no dependencies) into {site} in {elapsed():.0f} s")
    env["ASV_PYTHONPATH"] = env["PYTHONPATH"]  # asv drops PYTHONPATH in its benchmark processes, keeps this
    config.GPU_SITE.set(site, env)
    config.GPU_START.set(time.time() - elapsed(), env)
    os.execve(sys.executable, [sys.executable, str(Path(__file__).resolve()), *argv], env)


# --- logging and time -------------------------------------------------------------------------

_LOG: list = []  # the open log file, once the machine's folder is known; lines before it are kept here


def elapsed() -> float:
    started = config.gpu_start()
    return time.time() - started if started is not None else time.monotonic() - START


def log(msg: str) -> None:
    line = f"[{elapsed():6.1f} s] {msg}"
    print(line, flush=True)
    _write(line + "\n")


def _write(text: str) -> None:
    if _LOG and not isinstance(_LOG[0], str):
        _LOG[0].write(text)
        _LOG[0].flush()
    else:
        _LOG.append(text)


def open_log(path: Path) -> None:
    pending = [t for t in _LOG if isinstance(t, str)]
    _LOG.clear()
    path.parent.mkdir(parents=True, exist_ok=True)
    f = open(path, "a")
    f.write("".join(pending))
    _LOG.append(f)


# --- 2. data ----------------------------------------------------------------------------------

def unpack_data(carry: Path, cache: Path) -> None:
    from tokfrag.spec import PIPELINES

    names = sorted({s.dataset.name for s in PIPELINES.values()})
    if all((cache / n / "meta.json").is_file() for n in names):
        log(f"data: already in {cache}")
    else:
        archive = carry / "data.tar.gz"
        if not archive.is_file():
            sys.exit(f"no prepared data in {cache} and no {archive}: run `make gpu-wheels` here first")
        cache.mkdir(parents=True, exist_ok=True)
        with tarfile.open(archive) as tar:
            tar.extractall(cache, filter="data")
        log(f"data: unpacked {archive.name} ({archive.stat().st_size / 2**20:.1f} MiB) into {cache}")
    from tokfrag import data

    for spec in PIPELINES.values():
        data.load(spec.dataset.name).check(spec)  # the spec's classes, shape and data fingerprint
    log(f"data: {', '.join(names)} match every default pipeline's fingerprint")


# --- 3. machine and commit --------------------------------------------------------------------

def commit(carry: Path) -> dict:
    """HEAD from git where this copy has its history, else the commit `make gpu-wheels` recorded."""
    try:
        sha = subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True,
                             check=True).stdout.strip()
        when = subprocess.run(["git", "log", "-1", "--format=%ct", sha], cwd=ROOT, capture_output=True,
                              text=True, check=True).stdout.strip()
        return {"sha": sha, "date_ms": int(when) * 1000, "from": "git"}
    except (OSError, subprocess.CalledProcessError, ValueError):
        path = carry / "commit.json"
        if not path.is_file():
            sys.exit(f"no git history here and no {path}: run `make gpu-wheels` here first")
        return {**json.loads(path.read_text()), "from": str(path.relative_to(ROOT))}


def machine_for(device: str, results: Path, wanted: str | None) -> str:
    import hashlib

    from tokfrag import machine
    from tokfrag.errors import UsageError

    if wanted:
        machine.check_name(wanted, results)
        return wanted
    gpu = machine.gpu_info()
    if device == "gpu" and gpu:
        name = "lent-" + re.sub(r"[^A-Za-z0-9.]+", "-", gpu["name"].replace("NVIDIA ", "")).strip("-")
    else:
        name = "lent-cpu-rehearsal"
    try:
        machine.check_name(name, results)
        return name
    except UsageError:  # results/ records other hardware under that name: one of this hardware's own
        here = machine.hardware_here()
        return f"{name}-{hashlib.sha256(json.dumps(here, sort_keys=True).encode()).hexdigest()[:6]}"


def register(machine_name: str, datasets: list[str]) -> dict:
    from tokfrag import data, machine

    machine.register_asv_machine(machine_name)
    extras = machine.asv_machine_extras()
    extras.update(machine.data_record(ROOT / "results", machine_name, data.params(datasets)))  # adds, never narrows
    extras["lent_run"] = "gpu/run.py"
    machine.annotate_asv_machine(machine_name, extras)
    return extras


# --- 4. phases --------------------------------------------------------------------------------

def phases(device: str, pipelines: list[str]) -> list[dict]:
    """The asv runs in order: name, -b selection, seconds without which it is not started."""
    d = re.escape(device)

    def q(p):
        return re.escape(p)

    out = [{"phase": "parity", "what": "device parity, every pipeline", "min_s": 20,
            "bench": [rf"^bench_devices\.Parity\.track_device_parity\('[^']+', '{d}'\)$"]}]
    for p in pipelines:
        out.append({"phase": "step", "what": p, "min_s": 15,
                    "bench": [rf"^bench_pipelines\.Step\.time_\w+\('pytorch', '{q(p)}', '{d}'\)$",
                              rf"^bench_pipelines\.DeviceMemory\.track_\w+\('pytorch', '{q(p)}', '{d}'\)$"]})
    for p in pipelines:
        out.append({"phase": "train", "what": f"{p}, seed 0", "min_s": 20,
                    "bench": [rf"^bench_pipelines\.Training\.track_\w+\('pytorch', '{q(p)}', '{d}', 0\)$"]})
    out.append({"phase": "perf", "what": "matmul peak fp32 and bf16", "min_s": 10,
                "bench": [rf"^bench_perf\.Peak\.track_peak_flops\('{d}', '(fp32|bf16)'\)$"]})
    for mode, precision in PERF_ORDER:
        combo = rf"'pytorch', '{q(LARGEST)}', '{d}', '{mode}', '{precision}'"
        out.append({"phase": "perf", "what": f"{LARGEST} {mode} {precision}", "min_s": 40 if mode == "compiled" else 15,
                    "bench": [rf"^bench_perf\.Modes\.\w+\({combo}\)$"]})
    return out


def kill_session(sid: int, sig: int) -> None:
    """Signal every process of session ``sid`` (asv, started as a session leader, and the benchmark
    processes it starts, each in a process group of its own), so none keeps the device after its phase."""
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            if int(fields[3]) == sid:
                os.kill(int(stat.parent.name), sig)
        except (OSError, ValueError, IndexError):
            pass


def run_asv(cmd: list[str], env: dict, timeout: float) -> int | None:
    """asv, its output copied line by line to stdout and the log; None when stopped at ``timeout``."""
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            errors="replace", start_new_session=True)

    def copy():
        for line in proc.stdout:
            sys.stdout.write(line)
            sys.stdout.flush()
            _write(line)

    reader = threading.Thread(target=copy, daemon=True)
    reader.start()
    try:
        rc = proc.wait(timeout=max(timeout, 1))
    except subprocess.TimeoutExpired:
        kill_session(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            pass
        kill_session(proc.pid, signal.SIGKILL)  # asv's benchmark processes too: they have process groups of their own
        proc.wait()
        rc = None
    reader.join(timeout=5)
    return rc


def copy_out(folder: Path, out: Path | None, sha: str) -> None:
    """This commit's files of results/<machine>/ (and machine.json) into ``out/<machine>/``: the device tool
    brings back at most 8 files, so earlier commits' results, carried there with the tree, stay."""
    if out is None or not folder.is_dir():
        return
    target = out / folder.name
    target.mkdir(parents=True, exist_ok=True)
    for p in folder.iterdir():
        if p.is_file() and (p.name == "machine.json" or sha[:8] in p.name):
            shutil.copy2(p, target / p.name)


def summary(folder: Path, sha: str) -> list[str]:
    """One line per benchmark and parameter combination of this commit's results: its value(s)."""
    lines = []
    for path in sorted(folder.glob(f"{sha[:8]}-*.json")):
        doc = json.loads(path.read_text())
        columns = doc.get("result_columns", ["result", "params"])
        for name, row in sorted(doc.get("results", {}).items()):
            rec = dict(zip(columns, row))
            values, params = rec.get("result"), rec.get("params") or []
            combos = [()]
            for axis in params:
                combos = [c + (v,) for c in combos for v in axis]
            if not isinstance(values, list):
                values = [values] * len(combos)
            for combo, v in zip(combos, values):
                if v is not None and not (isinstance(v, float) and v != v):
                    lines.append(f"{name}({', '.join(combo)}) = {v:.6g}" if isinstance(v, (int, float))
                                 else f"{name}({', '.join(combo)}) = {v}")
    return lines


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--device", choices=("gpu", "cpu"), default="gpu",
                    help="the device of every benchmark (cpu: the rehearsal of the GPU run on a CPU)")
    ap.add_argument("--smoke", action="store_true",
                    help="smoke budget: one epoch of training (TOKFRAG_SMOKE) and one sample per timing (asv --quick)")
    ap.add_argument("--budget", type=float, default=480,
                    help="seconds from this script's start after which no phase runs (default 480: the device "
                         "tool's 10-minute call, less the slack to copy results back)")
    ap.add_argument("--phases", default=",".join(PHASES),
                    help=f"comma-separated subset of {', '.join(PHASES)}, run in that order (default: all)")
    ap.add_argument("--pipelines", default="", help="comma-separated pipelines (default: the six default ones)")
    ap.add_argument("--machine", help="the results' machine name (default lent-<GPU model>)")
    ap.add_argument("--carry", type=Path, default=ROOT / ".gpu-carry", help="what `make gpu-wheels` filled")
    ap.add_argument("--site", default="/tmp/tokfrag-gpu-site", help="where the carried wheels and tokfrag go")
    ap.add_argument("--out", type=Path, default=Path(os.environ["OUT"]) if os.environ.get("OUT") else None,
                    help="copy results/<machine>/ here after every phase (default $OUT)")
    args = ap.parse_args(argv)
    args.carry = args.carry.resolve()
    selected = [p.strip() for p in args.phases.split(",") if p.strip()]
    unknown = [p for p in selected if p not in PHASES]
    if unknown:
        ap.error(f"unknown phase(s) {', '.join(unknown)}; valid: {', '.join(PHASES)}")

    if config.gpu_site() != Path(args.site).resolve():
        bootstrap(args, argv)  # re-runs this script; never returns

    config.DATA.set(ROOT / "datasets" / "cache")
    versions = {}
    for mod in NEEDED:
        try:
            m = __import__(mod)
            versions[mod] = getattr(m, "__version__", "?")
        except Exception as e:  # noqa: BLE001 - reported, then the run stops
            sys.exit(f"{mod} cannot be imported here ({type(e).__name__}: {e}): carry its wheel (gpu/wheels.txt)")
    log("versions: " + ", ".join(f"{k} {v}" for k, v in versions.items()))
    import torch

    if args.device == "gpu" and not torch.cuda.is_available():
        sys.exit("--device gpu: torch.cuda.is_available() is False here (rehearse with --device cpu)")

    from tokfrag.spec import PIPELINES

    pipelines = [p.strip() for p in args.pipelines.split(",") if p.strip()] or list(PIPELINES)
    unpack_data(args.carry, ROOT / "datasets" / "cache")
    info = commit(args.carry)
    results = ROOT / "results"
    name = machine_for(args.device, results, args.machine)
    folder = results / name
    open_log(folder / f"gpu-{info['sha'][:8]}.log")
    log(f"machine {name}; commit {info['sha'][:8]} (from {info['from']}); device {args.device}; "
        f"{'smoke budget; ' if args.smoke else ''}budget {args.budget:.0f} s; phases {', '.join(selected)}")
    extras = register(name, sorted({PIPELINES[p].dataset.name for p in pipelines if p in PIPELINES}))
    log("machine record: " + ", ".join(f"{k}={extras[k]}" for k in ("gpu", "gpu_driver", "cuda", "pytorch_gpu",
                                                                       "torch") if k in extras))
    session = uuid.uuid4().hex
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    for var, value in ((config.RUN, session), (config.SEEDS, 1), (config.COMMIT_SHA, info["sha"]),
                       (config.COMMIT_DATE_MS, info["date_ms"]),
                       (config.DATASETS, ",".join(sorted({PIPELINES[p].dataset.name for p in pipelines
                                                          if p in PIPELINES})))):
        var.set(value, env)
    if args.smoke:
        config.SMOKE.set(1, env)
    base = [sys.executable, str(ROOT / "gpu" / "asv_carried.py"), "run", "--python=same", "--set-commit-hash",
            info["sha"], "--machine", name, "--show-stderr", "--record-samples", "--launch-method", "spawn"]
    if args.smoke:
        base.append("--quick")
    done, skipped, stopped = [], [], []
    for ph in (p for p in phases(args.device, pipelines) if p["phase"] in selected):
        left = args.budget - elapsed()
        label = f"{ph['phase']}: {ph['what']}"
        if left < ph["min_s"]:
            skipped.append(label)
            log(f"== {label}: not started ({left:.0f} s of the budget left, it needs {ph['min_s']} s)")
            continue
        log(f"== {label} ({left:.0f} s of the budget left)")
        t0 = time.monotonic()
        rc = run_asv(base + [a for b in ph["bench"] for a in ("-b", b)], env, left)
        took = time.monotonic() - t0
        if rc is None:
            stopped.append(label)
            log(f"== {label}: stopped at the budget's end after {took:.0f} s (this asv run's results are lost)")
        else:
            done.append(label)
            log(f"== {label}: {took:.0f} s, asv exit {rc}")
        if ph["phase"] == "train":
            from tokfrag import curves

            curves.collect(session, folder, info["sha"])
        copy_out(folder, args.out, info["sha"])
    lines = summary(folder, info["sha"])
    log(f"results of commit {info['sha'][:8]} in {folder.relative_to(ROOT)}/ ({len(lines)} values):")
    for line in lines:
        _write(line + "\n")
        print("  " + line)
    log(f"done in {elapsed():.0f} s: {len(done)} asv runs finished, {len(stopped)} stopped, {len(skipped)} not started"
        + (f" ({'; '.join(stopped + skipped)})" if stopped or skipped else ""))
    log(f"finished at {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M:%S} UTC")
    copy_out(folder, args.out, info["sha"])
    return 0 if lines else 1


if __name__ == "__main__":
    sys.exit(main())
