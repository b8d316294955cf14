"""Here, before a lent GPU machine's run: fill .gpu-carry/ with what that machine lacks, and say its size.

    make gpu-wheels        (= .venv/bin/python gpu/carry.py, after `tokfrag prepare`)

- ``wheels/``: the wheels of gpu/wheels.txt for CPython 3.12 on x86-64 Linux (manylinux), without their
  dependencies, at the versions pinned in constraints.txt (else the one installed here, else the newest);
- ``data.tar.gz``: the prepared datasets (datasets/cache/{mnist,text,video}: Arrow data, meta.json and the
  fitted codebooks; a few MB, where the video's Arrow files alone are 84 MB unpacked);
- ``commit.json``: HEAD's hash and date, for asv's results where the copy there has no git history.

The lent machines have no network and take at most 64 MiB of working tree per call, carried paths
included: this prints the carry's size and the working tree's, and fails when they exceed it.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import json
import os
import re
import subprocess
import sys
import tarfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CARRY = ROOT / ".gpu-carry"
LIMIT = 64 * 2**20
PLATFORMS = ["manylinux_2_28_x86_64", "manylinux_2_27_x86_64", "manylinux_2_24_x86_64", "manylinux_2_17_x86_64",
             "manylinux2014_x86_64", "manylinux1_x86_64", "manylinux_2_5_x86_64"]
DATASETS = ("mnist", "text", "video")
SKIP = ("extra", "runs")  # grown video clips (bench_scale) and training-run records: not needed there
# What every lent machine's python holds besides gpu/lent.txt's packages, as their own dependencies (and so
# does the rehearsal's venv): a carried wheel may need these without carrying them.
THERE = ("filelock", "fsspec", "huggingface-hub", "packaging", "pyyaml", "xxhash", "typing-extensions", "setuptools",
         "requests", "psutil", "jinja2")
TARGET = {"python_version": "3.12", "python_full_version": "3.12.3", "sys_platform": "linux", "os_name": "posix",
          "platform_system": "Linux", "platform_machine": "x86_64", "platform_python_implementation": "CPython",
          "implementation_name": "cpython", "extra": ""}


def normal(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def wanted(root: Path = ROOT) -> list[str]:
    lines = (root / "gpu" / "wheels.txt").read_text().splitlines()
    return [s for s in (line.split("#", 1)[0].strip() for line in lines) if s]


def pins(root: Path = ROOT) -> dict[str, str]:
    out = {}
    for line in (root / "constraints.txt").read_text().splitlines():
        m = re.match(r"^([A-Za-z0-9_.\-]+)==([^\s;#]+)", line.strip())
        if m:
            out[normal(m.group(1))] = m.group(2)
    return out


def requirement(name: str, pinned: dict[str, str]) -> str:
    version = pinned.get(normal(name))
    if version is None:
        try:
            version = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            return name
    return f"{name}=={version}"


def lent(root: Path = ROOT) -> list[str]:
    """gpu/lent.txt's distribution names: what the lent machines' python holds."""
    lines = (root / "gpu" / "lent.txt").read_text().splitlines()
    names = (re.split(r"[<>=!~;\[ ]", s, maxsplit=1)[0] for s in (line.split("#", 1)[0].strip() for line in lines))
    return [n for n in names if n]


def gaps(requires: list[str], carried: list[str]) -> list[str]:
    """The requirements (Requires-Dist lines) that apply to CPython 3.12 on Linux x86-64, without extras, and
    that neither the carried wheels nor the lent machines (gpu/lent.txt, THERE) provide."""
    from packaging.requirements import Requirement

    have = {normal(n) for n in [*carried, *lent(), *THERE]}
    out = []
    for line in requires:
        req = Requirement(line)
        if req.marker is not None and not req.marker.evaluate(TARGET):
            continue
        if normal(req.name) not in have:
            out.append(str(req))
    return out


def wheel_requires(wheel: Path) -> list[str]:
    import email.parser
    import zipfile

    with zipfile.ZipFile(wheel) as z:
        meta = next(n for n in z.namelist() if n.endswith(".dist-info/METADATA"))
        msg = email.parser.Parser().parsestr(z.read(meta).decode("utf-8", "replace"))
    return msg.get_all("Requires-Dist") or []


def wheel_name(path: Path) -> str:
    return normal(path.name.split("-", 1)[0])


def download(names: list[str], folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    pinned = pins()
    have = {wheel_name(p): p for p in folder.glob("*.whl")}
    for name in names:
        req = requirement(name, pinned)
        version = req.partition("==")[2]
        old = have.get(normal(name))
        if old is not None and version and f"-{version}-" in old.name:
            continue
        if old is not None:
            old.unlink()  # one version of each: two would stop the install there
        cmd = [sys.executable, "-m", "pip", "download", "--disable-pip-version-check", "--no-deps",
               "--only-binary=:all:", "--python-version", "3.12", "--implementation", "cp", "--abi", "cp312",
               "--abi", "abi3", "--abi", "none", *[a for p in PLATFORMS for a in ("--platform", p)],
               "--platform", "any", "-d", str(folder), req]
        print(f"downloading {req}", flush=True)
        r = subprocess.run(cmd, capture_output=True, text=True)
        if r.returncode != 0:
            raise SystemExit(f"pip could not download {req} for Python 3.12 x86-64:\n{r.stderr.strip()}")


def pack_data(cache: Path, target: Path) -> None:
    """datasets/cache/{mnist,text,video} without SKIP, as a gzip'd tar (Python's tarfile reads it there)."""
    missing = [d for d in DATASETS if not (cache / d / "meta.json").is_file()]
    if missing:
        raise SystemExit(f"{cache}: {', '.join(missing)} not prepared. Fix: .venv/bin/tokfrag prepare")

    def keep(info: tarfile.TarInfo):
        parts = Path(info.name).parts
        if len(parts) > 1 and parts[1] in SKIP or any(p.startswith(".") for p in parts):
            return None
        info.uid = info.gid = 0
        info.uname = info.gname = ""
        return info

    tmp = target.with_suffix(".tmp")
    with tarfile.open(tmp, "w:gz", compresslevel=6) as tar:
        for d in DATASETS:
            tar.add(cache / d, arcname=d, filter=keep)
    os.replace(tmp, target)


def commit_info(root: Path = ROOT) -> dict:
    def git(*args):
        return subprocess.run(["git", *args], cwd=root, capture_output=True, text=True, check=True).stdout.strip()

    sha = git("rev-parse", "HEAD")
    return {"sha": sha, "date_ms": int(git("log", "-1", "--format=%ct", sha)) * 1000,
            "subject": git("log", "-1", "--format=%s", sha), "dirty": bool(git("status", "--porcelain", "-uno"))}


def tree_bytes(root: Path = ROOT) -> int:
    """Bytes of what travels besides the carry: tracked files and untracked ones git does not ignore."""
    out = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=root,
                         capture_output=True, check=True).stdout
    total = 0
    for name in filter(None, out.split(b"\0")):
        p = root / os.fsdecode(name)
        if p.is_file() and not p.is_symlink():
            total += p.stat().st_size
    return total


def folder_bytes(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


def mib(n: int) -> str:
    return f"{n / 2**20:.1f} MiB"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--carry", type=Path, default=CARRY, help="the folder to fill (default .gpu-carry)")
    ap.add_argument("--cache", type=Path, default=ROOT / "datasets" / "cache", help="the prepared data")
    ap.add_argument("--no-data", action="store_true", help="wheels and commit only")
    args = ap.parse_args(argv)
    carry = args.carry
    carry.mkdir(parents=True, exist_ok=True)
    (carry / ".gitignore").write_text("*\n")  # ignored wherever it lies (also named in .gitignore)
    download(wanted(), carry / "wheels")
    names = wanted()
    missing = {w.name: g for w in sorted((carry / "wheels").glob("*.whl")) if (g := gaps(wheel_requires(w), names))}
    if missing:
        print("carried wheels need what is neither carried nor there (add it to gpu/wheels.txt): "
              + "; ".join(f"{k}: {', '.join(v)}" for k, v in missing.items()), file=sys.stderr)
        return 1
    if not args.no_data:
        pack_data(args.cache, carry / "data.tar.gz")
    info = commit_info()
    (carry / "commit.json").write_text(json.dumps(info, indent=2) + "\n")
    wheels, data = folder_bytes(carry / "wheels"), (carry / "data.tar.gz").stat().st_size if not args.no_data else 0
    tree, total = tree_bytes(), folder_bytes(carry)
    print(f"\n{carry}: {mib(total)} ({len(list((carry / 'wheels').glob('*.whl')))} wheels {mib(wheels)}, "
          f"data {mib(data)}); working tree {mib(tree)}; together {mib(total + tree)} of the {mib(LIMIT)} a call "
          f"carries")
    print(f"commit {info['sha'][:8]}{' (the tree has uncommitted changes)' if info['dirty'] else ''}")
    print("on the lent machine: python3 gpu/run.py   (carry: .gpu-carry)")
    if total + tree > LIMIT:
        print(f"too large: {mib(total + tree)} > {mib(LIMIT)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
