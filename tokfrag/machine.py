"""What machine this is: CPU, memory, OS, and the GPU that asv's machine.json cannot record."""

from __future__ import annotations

import os
import platform
import re
import shutil
import socket
import subprocess
import sys
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


def machine_name() -> str:
    """The host name, plus the GPU model where one is visible (asv's machine.json has no GPU field)."""
    name = socket.gethostname().split(".")[0] or "machine"
    gpu = gpu_info()
    if gpu:
        name += "-" + gpu["name"].replace("NVIDIA ", "").replace(" ", "-")
    return name


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
    gpu = gpu_info()
    extras = {
        "gpu": gpu["name"] if gpu else "none",
        "gpu_driver": gpu["driver"] if gpu else "",
        "cuda": gpu["cuda"] if gpu else "",
        "python": platform.python_version(),
    }
    # flat strings only: asv copies these keys into every results file, and its publish
    # step hashes them
    for fw, devices in device_report().items():
        for device, state in devices.items():
            extras[f"{fw}_{device}"] = state
    extras.update({k: v for k, v in framework_versions().items() if k not in ("gpu", "cuda")})
    return extras


def register_asv_machine(machine: str, cwd: str | Path, config: str | Path | None = None) -> None:
    """``asv machine --yes`` for ``machine`` with this machine's description (~/.asv-machine.json)."""
    info = describe()
    cmd = [sys.executable, "-m", "asv", "machine", "--yes", "--machine", machine,
           "--os", info["os"], "--arch", info["arch"], "--cpu", info["cpu"],
           "--num_cpu", str(info["num_cpu"]), "--ram", str(info["ram"])]
    if config is not None:
        cmd += ["--config", str(config)]
    subprocess.run(cmd, cwd=cwd, check=True, stdout=subprocess.DEVNULL)


def annotate_asv_machine(machine: str, extras: dict, path: str | None = None) -> None:
    """Merge ``extras`` into this machine's entry of asv's machine file (~/.asv-machine.json)."""
    import json

    p = Path(path or Path.home() / ".asv-machine.json")
    doc = json.loads(p.read_text()) if p.exists() else {"version": 1}
    doc.setdefault(machine, {"machine": machine}).update(extras)
    p.write_text(json.dumps(doc, indent=4, sort_keys=True))
