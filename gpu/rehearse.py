"""The dress rehearsal of the lent-GPU run, on this CPU: ``make gpu-rehearsal``.

What a lent machine does, as closely as a CPU allows:

- a clean Python 3.12 virtual environment (.gpu-rehearsal/venv, made once) holding only what the lent
  machines hold (gpu/lent.txt: PyTorch 2.11 as there, timm, torch-geometric, numpy, pandas, pyarrow,
  scipy, tqdm, pillow, and what they need), never anything else: the run installs into a folder of its own;
- a copy of what the device tool sends: the tracked files and the untracked ones git does not ignore,
  plus .gpu-carry/ (`make gpu-wheels`), in a fresh folder, with its size checked against 64 MiB;
- no network (a network namespace of its own where ``unshare -n`` works, and pip's index off in any case),
  a home of its own, ``$OUT`` an empty folder;
- the same command, ``python3 gpu/run.py``, with ``--device cpu --smoke`` (one epoch, one sample per timing).

It passes when the run ends with exit 0 and ``$OUT`` holds asv's machine.json, a results file with a value
from every phase, and the log. Prints the time it took and what came back.
"""

from __future__ import annotations

import argparse
import glob
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
VENV = ROOT / ".gpu-rehearsal" / "venv"
LIMIT = 64 * 2**20


def is_python312(candidate: str | None) -> bool:
    """``candidate`` runs and is Python 3.12 (a pyenv shim exists but fails where no 3.12 is selected)."""
    if not candidate or not Path(candidate).exists():
        return False
    check = "import sys; sys.exit(sys.version_info[:2] != (3, 12))"
    return subprocess.run([candidate, "-c", check], capture_output=True, timeout=60).returncode == 0


def python312() -> str:
    given = os.environ.get("PYTHON312")
    for candidate in (given, shutil.which("python3.12"),
                      *sorted(glob.glob(os.path.expanduser("~/.pyenv/versions/3.12*/bin/python3.12")))):
        if is_python312(candidate):
            return candidate
    tried = f" (PYTHON312={given} does not run as Python 3.12)" if given else ""
    sys.exit(f"no Python 3.12 found{tried}: install one (pyenv install 3.12) or set PYTHON312=/path/to/python3.12")


def lent_requirements() -> list[str]:
    lines = (ROOT / "gpu" / "lent.txt").read_text().splitlines()
    return [s for s in (line.split("#", 1)[0].strip() for line in lines) if s]


def ensure_venv(venv: Path) -> Path:
    """The clean 3.12 venv, made (and filled from the registry) once; remade when gpu/lent.txt changes."""
    py = venv / "bin" / "python"
    stamp = venv / ".lent"
    wanted = "\n".join(lent_requirements())
    if py.exists() and stamp.exists() and stamp.read_text() == wanted:
        return py
    if venv.exists():
        shutil.rmtree(venv)
    venv.parent.mkdir(parents=True, exist_ok=True)
    (venv.parent / ".gitignore").write_text("*\n")
    subprocess.run([python312(), "-m", "venv", str(venv)], check=True)
    print(f"installing what the lent machines hold into {venv} (once; PyTorch with CUDA: a few GB)", flush=True)
    subprocess.run([str(py), "-m", "pip", "install", "--disable-pip-version-check", "-q", *lent_requirements()],
                   check=True)
    stamp.write_text(wanted)
    return py


def travelling_files(root: Path) -> list[str]:
    out = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=root,
                         capture_output=True, check=True).stdout
    return [os.fsdecode(n) for n in out.split(b"\0") if n and (root / os.fsdecode(n)).is_file()]


def copy_tree(root: Path, target: Path, carry: Path, from_head: bool = False) -> int:
    """What the device tool sends (the working tree's tracked and untracked-not-ignored files), or with
    ``from_head`` what a fresh clone holds (``git archive HEAD``); then the carry."""
    total = 0
    if from_head:
        archive = subprocess.run(["git", "archive", "--format=tar", "HEAD"], cwd=root, capture_output=True,
                                 check=True).stdout
        import io
        import tarfile

        with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
            tar.extractall(target, filter="data")
            total += sum(m.size for m in tar.getmembers() if m.isfile())
    else:
        for name in travelling_files(root):
            src, dst = root / name, target / name
            dst.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dst)
            total += src.stat().st_size
    shutil.copytree(carry, target / carry.name)
    return total + sum(p.stat().st_size for p in carry.rglob("*") if p.is_file())


def offline_prefix() -> list[str]:
    """``unshare -n``: a network namespace with no interface, where this user may make one."""
    unshare = shutil.which("unshare")
    if unshare and subprocess.run([unshare, "-n", "true"], capture_output=True).returncode == 0:
        return [unshare, "-n"]
    return []


def check(out: Path) -> list[str]:
    """What is missing from what came back (an empty list: the rehearsal passed)."""
    folders = [p for p in out.iterdir() if p.is_dir()] if out.is_dir() else []
    if len(folders) != 1:
        return [f"$OUT holds {len(folders)} machine folders, expected 1"]
    folder = folders[0]
    problems = []
    if not (folder / "machine.json").is_file():
        problems.append("no machine.json")
    if not list(folder.glob("gpu-*.log")):
        problems.append("no log")
    found = list(folder.glob("*-existing-*.json"))
    if not found:
        return problems + ["no asv results file"]
    doc = json.loads(found[0].read_text())
    names = [n for n, row in doc.get("results", {}).items() if row and row[0] is not None]
    for prefix in ("bench_devices.Parity", "bench_pipelines.Step", "bench_pipelines.Training", "bench_perf.Peak",
                   "bench_perf.Modes"):
        if not any(n.startswith(prefix) for n in names):
            problems.append(f"no result of {prefix}")
    return problems


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--venv", type=Path, default=VENV)
    ap.add_argument("--carry", type=Path, default=ROOT / ".gpu-carry")
    ap.add_argument("--from-head", action="store_true",
                    help="rehearse on the files of a fresh clone (git archive HEAD) instead of the working tree")
    ap.add_argument("--keep", action="store_true", help="keep the rehearsal's folder (printed) afterwards")
    ap.add_argument("--budget", type=float, default=3600,
                    help="gpu/run.py's --budget (default 3600 s: 2 shared cores are far slower than a lent machine)")
    ap.add_argument("run_args", nargs="*", help="more arguments for gpu/run.py (after --)")
    args = ap.parse_args(argv)
    if not (args.carry / "commit.json").is_file():
        sys.exit(f"{args.carry} is not filled: run `make gpu-wheels` first")
    py = ensure_venv(args.venv)
    work = Path(tempfile.mkdtemp(prefix="tokfrag-gpu-rehearsal-"))
    tree, home, out = work / "tree", work / "home", work / "out"
    for d in (tree, home, out):
        d.mkdir()
    size = copy_tree(ROOT, tree, args.carry, args.from_head)
    print(f"rehearsal in {work}: {size / 2**20:.1f} MiB travel (limit {LIMIT / 2**20:.0f} MiB); files of "
          f"{'HEAD (a fresh clone)' if args.from_head else 'the working tree'}", flush=True)
    if size > LIMIT:
        print("too large for a call of the device tool", file=sys.stderr)
        return 1
    offline = offline_prefix()
    print(f"network: {'none (unshare -n)' if offline else 'pip index off only (unshare -n unavailable here)'}",
          flush=True)
    env = {"PATH": f"{py.parent}{os.pathsep}/usr/local/bin:/usr/bin:/bin", "HOME": str(home), "OUT": str(out),
           "LANG": "C.UTF-8", "PIP_NO_INDEX": "1", "PIP_CONFIG_FILE": os.devnull, "TMPDIR": str(work),
           "HF_DATASETS_OFFLINE": "1", "HF_HUB_OFFLINE": "1"}
    cmd = [*offline, "python3", "gpu/run.py", "--device", "cpu", "--smoke", "--budget", str(args.budget),
           "--site", str(work / "site"), *args.run_args]
    print("$ " + " ".join(cmd), flush=True)
    start = time.monotonic()
    rc = subprocess.run(cmd, cwd=tree, env=env).returncode
    took = time.monotonic() - start
    problems = [f"gpu/run.py exited {rc}"] if rc else []
    problems += check(out)
    back = sorted(p.relative_to(out) for p in out.rglob("*") if p.is_file())
    print(f"\nrehearsal: {took:.0f} s; came back in $OUT: " + ", ".join(map(str, back)))
    if not args.keep:
        shutil.rmtree(work, ignore_errors=True)
    if problems:
        print("REHEARSAL FAILED: " + "; ".join(problems), file=sys.stderr)
        return 1
    print("rehearsal passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
