"""Datasets of your own: ``tokfrag prepare KIND --source PATH [--name NAME]``.

A source of one's own is prepared under a name of its own (never an embedded dataset's), into
``<cache>/<name>/`` like the embedded ones, and its meta.json records what the pipelines need
(``tokfrag.spec.user_pipelines`` derives them from it):

- ``kind``: ``image``, ``video`` or ``text`` (the embedded dataset whose pipelines are the template);
- ``shape``: one sample's shape (image (h, w), clip (t, h, w); text: the 99th percentile of the
  training texts' UTF-8 lengths, in bytes);
- ``classes``: the label names in class-id order, and ``label_map`` (source label -> class id)
  where the source's labels were mapped (strings, or integers that are not 0..K-1);
- ``split``: the source's own test split, or a stratified one (``TEST_FRACTION``, seed ``SPLIT_SEED``);
- ``data_sha256``: the fingerprint of the prepared data (``store.data_fingerprint``: arrays,
  labels and class names), recorded with every benchmark result of it;
- ``source``: what was read (paths and their sha256): preparing the same source again is a no-op.

Sources (KIND):

- ``image``: a folder of IDX files (``tokfrag.data.mnist.idx_files``; raw or gzipped, any image size
  and label set), or a folder of images in one sub-folder per class (``tokfrag.data.images``).
  ``mnist`` is accepted as a synonym (``tokfrag prepare mnist --source DIR`` of full MNIST).
- ``video``: uint8 clips (N, T, H, W) with labels, in a .npz file or a folder of .npy files
  (``tokfrag.data.video.read_own``).
- ``text``: CSV, JSON lines, parquet or a saved Hugging Face dataset (``tokfrag.data.text.read_own``).

Every check runs before anything is written; the dataset is then written atomically
(``store.write_atomically``), so a bad source leaves the cache as it was.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np

from ..errors import DataError, UsageError
from . import images, mnist, text, video
from .mnist import stratified_split
from .registry import BUILDERS
from .store import _log, cache_root, data_fingerprint, fit_codebooks, sha256, write_atomically

VERSION = 1
KINDS = ("image", "video", "text")
ALIASES = {"mnist": "image"}  # `tokfrag prepare mnist --source DIR` reads images of your own too
INPUTS = {"image": mnist.INPUT, "video": video.INPUT, "text": text.INPUT}
SPLIT_SEED = 0
TEST_FRACTION = 0.2
TEXT_PERCENTILE = 99  # text length: the 99th percentile of the training texts' UTF-8 bytes
NAME = re.compile(r"^[a-z][a-z0-9_-]{0,39}$")
RESERVED = {"runs"}  # folders of the cache that are not datasets


def kind_of(name: str) -> str:
    kind = ALIASES.get(name, name)
    if kind not in KINDS:
        raise UsageError(f"unknown kind {name!r} for --source; valid kinds: {', '.join(KINDS)} "
                         "(e.g. tokfrag prepare image --source DIR --name NAME)")
    return kind


def derive_name(source: Path) -> str:
    """The default name: the source file's stem or folder's name, lower case, [a-z0-9_-] only."""
    stem = source.name
    for suffix in (".gz", ".npz", ".csv", ".jsonl", ".json", ".parquet"):
        if stem.lower().endswith(suffix):
            stem = stem[: -len(suffix)]
    name = re.sub(r"[^a-z0-9_-]+", "-", stem.lower()).strip("-_")
    if name and not name[0].isalpha():
        name = f"data-{name}"
    return name[:40]


def check_name(name: str, source: Path | None = None, derived: bool = False) -> str:
    """A valid, free name for a dataset of one's own, or a UsageError that says how to pick one."""
    how = f"the name derived from {source.name!r}" if derived and source is not None else f"--name {name}"
    if name in BUILDERS or name in RESERVED:
        what = "an embedded dataset" if name in BUILDERS else "a cache folder"
        raise UsageError(f"{how} is {name!r}, the name of {what}; a dataset of your own needs a name of its own, "
                         "so that results on it are never taken for results on the embedded one.\n"
                         f"Fix: pass --name NAME (e.g. --name my-{name})")
    if not NAME.match(name):
        raise UsageError(f"{how}: {name!r} is not a dataset name (a letter, then up to 39 letters, digits, - or _, "
                         "lower case).\nFix: pass --name NAME")
    return name


def source_info(kind: str, source: Path, size: str | None = None, text_column: str | None = None,
                label_column: str | None = None) -> dict:
    """What the source is (paths, sha256 and options): the same dict -> the cache is up to date."""
    if kind != "image" and size is not None:
        raise UsageError("--size applies to image folders only")
    if kind != "text" and (text_column or label_column):
        raise UsageError("--text-column and --label-column apply to text sources only")
    base = {"kind": kind, "builder_version": VERSION, "split_seed": SPLIT_SEED, "test_fraction": TEST_FRACTION}
    if not source.exists():
        raise DataError(f"--source {source}: no such file or folder")
    if kind == "image":
        if not source.is_dir():
            raise DataError(f"--source {source}: not a folder.\nFix: pass the folder that holds the IDX files, or "
                            "the folder of class sub-folders of images")
        if images.is_image_folder(source):
            images.parse_size(size)  # a malformed --size is an error before any image is read
            layout = images.files(source)
            digest, n = images.digest(layout, source)
            return {**base, "source": f"image folder {source}", "format": "folder", "path": str(source),
                    "sha256": digest, "images": n, "size": size}
        if size is not None:
            raise UsageError("--size applies to image folders; IDX images keep their size")
        files = mnist.idx_files(source)
        return {**base, "source": f"IDX files in {source}", "format": "idx", "path": str(source),
                "files": {k: {"path": str(p), "sha256": sha256(p)} for k, p in files.items()}}
    if kind == "video":
        files = video.own_files(source)
        return {**base, "source": f"clips in {source}", "format": "npz" if source.is_file() else "npy",
                "path": str(source), "files": {p.name: {"path": str(p), "sha256": sha256(p)} for p in files}}
    fmt, digest = text.own_format(source)
    return {**base, "source": f"{fmt} {source}", "format": fmt, "path": str(source), "sha256": digest,
            "text_column": text_column or "text", "label_column": label_column or "label"}


def read(info: dict, quiet: bool = True) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """{split: (samples, raw labels)}: "all" (to be split) or "train" and "test" (the source's own)."""
    kind, path = info["kind"], Path(info["path"])
    if kind == "image" and info["format"] == "folder":
        splits, _ = images.read(images.files(path), images.parse_size(info.get("size")), quiet)
        return splits
    if kind == "image":
        out = mnist.read_idx_source({k: Path(v["path"]) for k, v in info["files"].items()})
        return out if "test" in out else {"all": out["train"]}
    if kind == "video":
        return video.read_own(path)
    return text.read_own(info)


def class_ids(splits: dict, where: str) -> tuple[dict, list[str], dict | None]:
    """Raw labels -> class ids 0..K-1: ({split: (x, ids)}, class names, label_map or None).

    Integer labels (numbers, or strings of digits) keep their numeric order; if they are not
    already 0..K-1 they are mapped, and ``label_map`` says how ("7" -> 2). Other labels are names,
    in sorted order, also mapped. One class only is an error."""
    raw = np.concatenate([np.asarray(y, dtype=object) for _, y in splits.values()])
    ints = _as_ints(raw)
    if ints is not None:
        values = sorted(set(ints))
        names = [str(v) for v in values]
        mapping = {str(v): i for i, v in enumerate(values)}
        keys = [str(v) for v in ints]
        label_map = None if values == list(range(len(values))) else mapping
    else:
        keys = [str(v) for v in raw]
        names = sorted(set(keys))
        mapping = {n: i for i, n in enumerate(names)}
        label_map = mapping
    if len(names) < 2:
        raise DataError(f"{where}: every item has the label {names[0]!r}: one class only; a classifier needs at "
                        "least 2.\nFix: add items of another class (or check that the label column is the right one)")
    ids = np.array([mapping[k] for k in keys], dtype=np.int64)
    out, start = {}, 0
    for split, (x, y) in splits.items():
        out[split] = (x, ids[start:start + len(y)])
        start += len(y)
    return out, names, label_map


def _as_ints(raw: np.ndarray) -> list[int] | None:
    out = []
    for v in raw:
        if isinstance(v, (bool, np.bool_)):
            return None
        if isinstance(v, (int, np.integer)):
            out.append(int(v))
        elif isinstance(v, (float, np.floating)) and float(v).is_integer():
            out.append(int(v))
        elif isinstance(v, str) and re.fullmatch(r"\s*-?\d+\s*", v):
            out.append(int(v))
        else:
            return None
    return out


def split(splits: dict, where: str) -> tuple[dict, dict]:
    """The source's own train/test split, else a stratified one: ({train, test}, how)."""
    if "all" not in splits:
        return splits, {"from": "source"}
    x, y = splits["all"]
    train, test = stratified_split(y, TEST_FRACTION, SPLIT_SEED)
    if len(test) == 0 or len(train) == 0:
        raise DataError(f"{where}: {len(y)} items are too few for a {TEST_FRACTION:.0%} stratified test split "
                        f"(it would leave {'no test' if not len(test) else 'no training'} items).\n"
                        "Fix: add items (about 5 or more per class), or give the source a test split of its own")
    return ({"train": (x[train], y[train]), "test": (x[test], y[test])},
            {"from": "stratified", "seed": SPLIT_SEED, "test_fraction": TEST_FRACTION})


def build(info: dict, quiet: bool = True):
    """(DatasetDict, the meta fields of the data): read, label, split, check."""
    import datasets as hf

    kind, where = info["kind"], info["path"]
    splits, names, label_map = class_ids(read(info, quiet), where)
    splits, how = split(splits, where)
    x_train = splits["train"][0]
    if kind == "text":
        lengths = [len(t.encode("utf-8")) for t in x_train]
        shape = [max(1, int(np.ceil(np.percentile(lengths, TEXT_PERCENTILE))))]
        column = hf.Value("string")
    else:
        shape = list(x_train.shape[1:])
        column = (hf.Array2D if kind == "image" else hf.Array3D)(shape=tuple(shape), dtype="uint8")
    features = hf.Features({INPUTS[kind]: column, "label": hf.ClassLabel(names=names)})
    dsd = hf.DatasetDict({
        s: hf.Dataset.from_dict({INPUTS[kind]: list(x) if kind == "text" else x, "label": y},
                                features=features, split=s)
        for s, (x, y) in splits.items()
    })
    counts = {s: np.bincount(y, minlength=len(names)).tolist() for s, (_, y) in splits.items()}
    fields = {"shape": shape, "classes": names, "label_map": label_map, "split": how, "class_counts": counts,
              "data_sha256": data_fingerprint(splits["train"][0], splits["train"][1], splits["test"][0],
                                              splits["test"][1], names)}
    return dsd, fields


def prepare_source(kind: str, source: str, name: str | None = None, force: bool = False, quiet: bool = False,
                   target: float | None = None, **options) -> Path:
    """Prepare a source of one's own as dataset ``name`` (default: ``derive_name(source)``); a no-op
    when the same source is already prepared under that name. A name that holds another source is
    replaced only with ``force``."""
    from ..spec import user_pipelines

    kind = kind_of(kind)
    path = Path(source).expanduser().resolve()
    name = check_name(name or derive_name(path), path, derived=name is None)
    if target is not None and not 0 < target <= 100:
        raise UsageError(f"--target {target}: an accuracy in %, above 0 and at most 100")
    info = source_info(kind, path, **options)
    target_dir = cache_root() / name
    meta_path = target_dir / "meta.json"
    old = _read_meta(meta_path)
    if old is not None and not force:
        if old.get("source") == info and old.get("target") == target:
            _log(f"{name}: already prepared at {target_dir} (source unchanged), nothing to do", quiet)
            fit_codebooks(name, user_pipelines(old), quiet)
            return target_dir
        raise UsageError(f"dataset {name!r} already holds {old.get('source', {}).get('source', 'another source')} "
                         f"({target_dir}).\nFix: pass --force to replace it, or --name NAME to keep both")
    _log(f"{name}: preparing {kind} data from {info['source']} ...", quiet)

    def write(tmp: Path) -> dict:
        dsd, fields = build(info, quiet)
        dsd.save_to_disk(str(tmp / "data"))
        return {"dataset": name, "user": True, "kind": kind, "target": target, **fields, "source": info,
                "splits": {k: len(v) for k, v in dsd.items()},
                "features": {k: str(v) for k, v in dsd["train"].features.items()}}

    meta = write_atomically(target_dir, write)
    mapped = f"; labels mapped {meta['label_map']}" if meta["label_map"] else ""
    _log(f"{name}: wrote {target_dir} ({', '.join(f'{k} {v}' for k, v in meta['splits'].items())}; "
         f"{len(meta['classes'])} classes; shape {tuple(meta['shape'])}{mapped}); pipelines "
         f"{name}/fragment, {name}/token", quiet)
    fit_codebooks(name, user_pipelines(meta), quiet)
    return target_dir


def _read_meta(path: Path) -> dict | None:
    try:
        return json.loads(path.read_text()) if path.exists() else None
    except (OSError, ValueError):
        return {}
