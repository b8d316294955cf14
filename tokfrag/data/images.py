"""A folder of images, one sub-folder per class (torchvision's ImageFolder layout), read with Pillow.

``SOURCE/<class>/<image>``: the sub-folder's name is the class. ``SOURCE/train/<class>/...`` and
``SOURCE/test/<class>/...`` instead: the source's own test split. Files ending in ``IMAGE_SUFFIXES``
are images (any other file, and any hidden one, is ignored); one Pillow cannot read is an error
naming it.

The resize rule: every image is converted to grey scale (Pillow mode ``L``: ITU-R 601-2 luma,
alpha ignored) and resized to one size with Pillow's bilinear filter (antialiased when it
shrinks). The size is ``--size HxW`` when given; else the most common size among the images (the
larger, then the taller, on a tie), scaled down, aspect ratio kept, so that its longer side is at
most ``spec.MAX_IMAGE_SIDE`` (64) pixels. An image of another aspect ratio is stretched to it.
"""

from __future__ import annotations

import hashlib
import math
from collections import Counter
from pathlib import Path

import numpy as np

from ..errors import DataError
from ..spec import MAX_IMAGE_SIDE

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp", ".tif", ".tiff")
SPLIT_FOLDERS = ("train", "test")
FIX_LAYOUT = ("Fix: put the images in one sub-folder per class (SOURCE/<class>/<image>.png), or in "
              "SOURCE/train/<class>/ and SOURCE/test/<class>/ for a test split of your own")


def is_image_folder(source: Path) -> bool:
    """Whether ``source`` is a folder of class sub-folders (not a folder of IDX files)."""
    return source.is_dir() and any(p.is_dir() and not p.name.startswith(".") for p in source.iterdir())


def _classes(folder: Path) -> dict[str, list[Path]]:
    out = {}
    for sub in sorted(p for p in folder.iterdir() if p.is_dir() and not p.name.startswith(".")):
        out[sub.name] = sorted(f for f in sub.rglob("*") if f.is_file() and not f.name.startswith(".")
                               and f.suffix.lower() in IMAGE_SUFFIXES)
    return out


def files(source: Path) -> dict[str, dict[str, list[Path]]]:
    """{split: {class: image files}}: split "all" for a plain layout, else "train" and "test"."""
    subs = {p.name for p in source.iterdir() if p.is_dir() and not p.name.startswith(".")}
    if not subs:
        raise DataError(f"{source}: no class sub-folders.\n{FIX_LAYOUT}")
    own_split = set(SPLIT_FOLDERS) <= subs
    layout = {s: _classes(source / s) for s in SPLIT_FOLDERS} if own_split else {"all": _classes(source)}
    for split, classes in layout.items():
        where = source / split if own_split else source
        if not any(classes.values()):
            raise DataError(f"{where}: no images (files ending in {', '.join(IMAGE_SUFFIXES)}) in its class "
                            f"sub-folders ({', '.join(classes) or 'none'}).\n{FIX_LAYOUT}")
        empty = [c for c, fs in classes.items() if not fs]
        if empty:
            raise DataError(f"{where}: class folder(s) {', '.join(repr(c) for c in empty)} hold no image.\n"
                            "Fix: add images to them or remove them")
    return layout


def digest(layout: dict[str, dict[str, list[Path]]], source: Path) -> tuple[str, int]:
    """sha256 over every image's relative path and bytes, and the number of images (the source's identity)."""
    h, n = hashlib.sha256(), 0
    for split in sorted(layout):
        for cls in sorted(layout[split]):
            for f in layout[split][cls]:
                h.update(str(f.relative_to(source)).encode() + b"\0" + hashlib.sha256(f.read_bytes()).digest())
                n += 1
    return h.hexdigest(), n


def parse_size(text: str | None) -> tuple[int, int] | None:
    """``"32x24"`` (height x width) or ``"32"`` (square) -> (h, w); None -> None."""
    if text is None:
        return None
    parts = text.lower().split("x")
    try:
        size = tuple(int(p) for p in parts)
    except ValueError:
        size = ()
    if len(size) == 1:
        size = size * 2
    if len(size) != 2 or min(size) < 1:
        raise DataError(f"--size {text}: expected HEIGHTxWIDTH in pixels (e.g. 28x28) or one number for a square")
    return size


def _open(path: Path):
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as im:
            im.load()
            return im.convert("L")
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError) as e:
        raise DataError(f"{path}: cannot be read as an image ({type(e).__name__}: {e}).\n"
                        "Fix: replace or remove the file (only PNG, JPEG and the other formats Pillow reads are used)"
                        ) from None


def target_size(sizes: list[tuple[int, int]]) -> tuple[int, int]:
    """The most common (h, w), shrunk (aspect kept) so that the longer side is at most MAX_IMAGE_SIDE."""
    counts = Counter(sizes)
    h, w = max(counts, key=lambda s: (counts[s], s[0] * s[1], s[0]))
    scale = min(1.0, MAX_IMAGE_SIDE / max(h, w))
    return max(1, math.floor(h * scale + 0.5)), max(1, math.floor(w * scale + 0.5))


def read(layout: dict[str, dict[str, list[Path]]], size: tuple[int, int] | None, quiet: bool = True):
    """({split: (images uint8 (N, h, w), class names (N,))}, (h, w)): every image grey, resized (module docstring)."""
    from PIL import Image
    from tqdm.auto import tqdm

    items = [(split, cls, f) for split in layout for cls in layout[split] for f in layout[split][cls]]
    images = [_open(f) for _, _, f in tqdm(items, desc="reading images", unit="image", disable=quiet)]
    h, w = size or target_size([(im.height, im.width) for im in images])
    out: dict[str, tuple[list, list]] = {}
    for (split, cls, _), im in zip(items, images):
        if im.size != (w, h):
            im = im.resize((w, h), Image.BILINEAR)
        xs, ys = out.setdefault(split, ([], []))
        xs.append(np.asarray(im, dtype=np.uint8))
        ys.append(cls)
    return {split: (np.stack(xs), np.array(ys, dtype=object)) for split, (xs, ys) in out.items()}, (h, w)
