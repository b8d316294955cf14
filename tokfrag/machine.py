"""What machine this is: CPU, memory, OS, and the GPU that asv's machine.json cannot record."""

from __future__ import annotations

import os
import platform
import re
import shutil
import socket
import subprocess
from pathlib import Path


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def ram_bytes() -> int:
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return 0


def gpu_info(smi: str | None = None) -> dict | None:
    """{name, driver, cuda} of GPU 0 from nvidia-smi, or None when there is no NVIDIA GPU."""
    smi = smi or shutil.which("nvidia-smi")
    if not smi:
        return None
    try:
        q = subprocess.run([smi, "--query-gpu=name,driver_version", "--format=csv,noheader"],
                           capture_output=True, text=True, timeout=20)
        head = subprocess.run([smi], capture_output=True, text=True, timeout=20)
    except (OSError, subprocess.SubprocessError):
        return None
    if q.returncode != 0 or not q.stdout.strip():
        return None
    name, driver = [s.strip() for s in q.stdout.strip().splitlines()[0].split(",", 1)]
    m = re.search(r"CUDA Version:\s*([\d.]+)", head.stdout)
    return {"name": name, "driver": driver, "cuda": m.group(1) if m else ""}


# The SIMD features that change what a CPU computes fast (bf16 runs emulated without AVX-512 BF16
# or AMX): two CPUs that report the same model name can differ here (a cloud "AMD EPYC").
ISA_FLAGS = ("avx2", "fma", "avx512f", "avx512_bf16", "avx512_vnni", "amx_bf16", "amx_tile")
# What identifies a machine's hardware in its machine.json (cpu_isa: tokfrag's own field).
HARDWARE_FIELDS = ("cpu", "cpu_isa", "num_cpu", "ram", "gpu")


def cpu_isa() -> str:
    """The ISA_FLAGS this CPU has, space-separated ("" where /proc/cpuinfo is not readable)."""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("flags"):
                    flags = set(line.split(":", 1)[1].split())
                    return " ".join(f for f in ISA_FLAGS if f in flags)
    except OSError:
        pass
    return ""


def hardware(record: dict) -> dict[str, str]:
    """The hardware fields of a machine.json (or results params), normalised: RAM in whole GiB
    (the kernel reports a few MiB less on one boot than another), no GPU as "none"."""
    out = {}
    for k in HARDWARE_FIELDS:
        v = record.get(k)
        if k == "ram" and v not in (None, "") and not str(v).endswith(" GiB"):
            v = f"{round(int(float(v)) / 2**30)} GiB"
        if k == "gpu" and not v:
            v = "none"
        out[k] = "" if v is None else str(v)
    return out


def hardware_here() -> dict[str, str]:
    gpu = gpu_info()
    return hardware({"cpu": cpu_model(), "cpu_isa": cpu_isa(), "num_cpu": os.cpu_count() or 1,
                     "ram": ram_bytes(), "gpu": gpu["name"] if gpu else "none"})


def hardware_differences(a: dict, b: dict, unrecorded: bool = True) -> list[str]:
    """Fields where two hardware records differ, as "field: a vs b". With ``unrecorded`` a field
    that either lacks counts as different (nothing says they are the same); without, only fields
    both record are compared (results written before tokfrag recorded ``cpu_isa``)."""
    ha, hb = hardware(a), hardware(b)
    return [f"{k}: {ha[k] or 'not recorded'} vs {hb[k] or 'not recorded'}" for k in HARDWARE_FIELDS
            if (ha[k] != hb[k] or not ha[k]) if unrecorded or (ha[k] and hb[k])]


def machine_name(results_dir: str | Path | None = None) -> str:
    """The host name, plus the GPU model where one is visible (asv's machine.json has no GPU field).

    With ``results_dir``: when ``<results_dir>/<name>/machine.json`` records other hardware (another
    CPU, core count, memory or GPU under the same host name), a name of its own, ``<name>-<6 hex>``
    from this hardware, so that the other machine's record and results are never mixed with these.
    """
    name = socket.gethostname().split(".")[0] or "machine"
    gpu = gpu_info()
    if gpu:
        name += "-" + gpu["name"].replace("NVIDIA ", "").replace(" ", "-")
    if results_dir is None:
        return name
    import hashlib
    import json

    here = hardware_here()
    record = Path(results_dir) / name / "machine.json"
    try:
        recorded = json.loads(record.read_text()) if record.is_file() else None
    except (OSError, ValueError):
        recorded = {}
    if recorded is None or not hardware_differences(recorded, here):
        return name
    return f"{name}-{hashlib.sha256(json.dumps(here, sort_keys=True).encode()).hexdigest()[:6]}"


def check_name(machine: str, results_dir: str | Path) -> None:
    """UsageError when ``<results_dir>/<machine>/machine.json`` records other hardware than this
    machine's: asv would rewrite that record, and the other machine's results would then claim
    hardware they never ran on. The message names what differs and a name to use instead."""
    import json

    from .errors import UsageError

    record = Path(results_dir) / machine / "machine.json"
    try:
        recorded = json.loads(record.read_text()) if record.is_file() else None
    except (OSError, ValueError):
        recorded = None
    if recorded is None:
        return
    differ = hardware_differences(recorded, hardware_here())
    if differ:
        raise UsageError(f"--machine {machine}: {record} records other hardware ({'; '.join(differ)}, recorded vs "
                         f"here); results of this machine would be mixed with that one's and its record rewritten.\n"
                         f"Fix: choose another name, e.g. --machine {machine_name(results_dir)} (what tokfrag picks "
                         "without --machine)")


ASV_FIELDS = ("os", "arch", "cpu", "num_cpu", "ram")  # asv's own machine fields (asv.machine.Machine.fields)


def describe() -> dict:
    """The machine's identity, as recorded with results and shown in the leaderboard."""
    out = {
        "os": f"{platform.system()} {platform.release()}",
        "arch": platform.machine(),
        "cpu": cpu_model(),
        "num_cpu": os.cpu_count() or 1,
        "ram": ram_bytes(),
        "python": platform.python_version(),
    }
    gpu = gpu_info()
    if gpu:
        out["gpu"] = gpu
    return out


def device_report() -> dict:
    """Per framework and device: "available" or the reason it is skipped (imports the frameworks)."""
    from . import frameworks

    out: dict = {}
    for fw in frameworks.FRAMEWORKS:
        out[fw] = {}
        for device in frameworks.DEVICES:
            try:
                frameworks.get(fw).select_device(device)
                out[fw][device] = "available"
            except frameworks.Unavailable as e:
                out[fw][device] = f"skipped: {e}"
    return out


def framework_versions() -> dict:
    from . import frameworks

    out: dict = {}
    for fw in frameworks.FRAMEWORKS:
        if frameworks.installed(fw):
            out.update(frameworks.get(fw).versions())
    return out


def asv_machine_extras() -> dict:
    """Fields that asv's machine.json lacks: the GPU, its driver and CUDA, and device skip reasons.

    asv copies unknown keys of ~/.asv-machine.json into results/<machine>/machine.json, so
    they travel with the results to the leaderboard.
    """
    from .frameworks import gpu_count

    gpu = gpu_info()
    extras = {
        "gpu": gpu["name"] if gpu else "none",
        "gpu_driver": gpu["driver"] if gpu else "",
        "cuda": gpu["cuda"] if gpu else "",
        "cpu_isa": cpu_isa(),
        "python": platform.python_version(),
        # the topology bench_workers runs on: one machine, its GPUs (one worker per GPU there), the engines'
        # transports (tokfrag.workers: torch.distributed gloo / NCCL, tf.distribute ring / NCCL)
        "workers_topology": (f"1 host; {gpu_count()} GPU(s); workers on localhost ({os.cpu_count() or 1} cores): "
                             "pytorch gloo (cpu) / nccl (gpu), tensorflow ring over gRPC (cpu) / nccl (gpu)"),
    }
    # flat strings only: asv copies these keys into every results file, and its publish
    # step hashes them
    for fw, devices in device_report().items():
        for device, state in devices.items():
            extras[f"{fw}_{device}"] = state
    extras.update({k: v for k, v in framework_versions().items() if k not in ("gpu", "cuda")})
    return extras


def register_asv_machine(machine: str, path: str | None = None) -> None:
    """This machine's description (``describe``) under ``machine`` in asv's machine file
    (~/.asv-machine.json), which ``asv run --machine`` copies into results/<machine>/machine.json.

    Written here rather than with ``asv machine --yes``: that command stores only the fields that
    differ from its own guesses, so on a fresh machine file the record lacked cpu, arch, num_cpu
    (and os and ram where asv guessed them the same), and so did machine.json and every results
    file: the leaderboard showed no CPU and the machine checks had no hardware to compare."""
    info = describe()
    annotate_asv_machine(machine, {"machine": machine, **{k: str(info[k]) for k in ASV_FIELDS}}, path=path)


def data_record(results_dir: str | Path, machine: str, fingerprints: dict[str, str]) -> dict[str, str]:
    """The ``data_<dataset>`` machine parameters of a run: the fingerprints that
    ``<results_dir>/<machine>/machine.json`` already records, updated with this run's
    (``tokfrag.data.params`` of its datasets).

    asv rewrites machine.json from the machine file (~/.asv-machine.json), which on a fresh home
    holds only this run's datasets: so a run of some datasets (``--dataset``) adds to the record
    and never drops another dataset's fingerprint, which asv's graphs use as a machine parameter."""
    import json

    from .results import DATA_PREFIX

    try:
        recorded = json.loads((Path(results_dir) / machine / "machine.json").read_text())
    except (OSError, ValueError):
        recorded = {}
    if not isinstance(recorded, dict):
        recorded = {}
    kept = {k: v for k, v in recorded.items() if k.startswith(DATA_PREFIX) and isinstance(v, str) and v}
    return {**kept, **fingerprints}


def annotate_asv_machine(machine: str, extras: dict, path: str | None = None) -> None:
    """Merge ``extras`` into this machine's entry of asv's machine file (~/.asv-machine.json)."""
    import json

    p = Path(path or Path.home() / ".asv-machine.json")
    doc = json.loads(p.read_text()) if p.exists() else {"version": 1}
    doc.setdefault(machine, {"machine": machine}).update(extras)
    p.write_text(json.dumps(doc, indent=4, sort_keys=True))
