"""What machine this is: CPU, memory, OS, and the GPU that asv's machine.json cannot record."""

from __future__ import annotations

import os
import platform
import re
import shutil
import subprocess


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
