"""Moving MNIST: one MNIST digit bouncing on a 64x64 canvas for 8 frames. Card: ``datasets/video.md``.

Generated deterministically for a seed with the standard bouncing-digit procedure
(Srivastava et al., 2015): a 28x28 digit starts at a uniform position, moves with constant
velocity and reflects at the borders. Training clips use training digits only, test clips
test digits only (the default MNIST split, always from the embedded 5,000 digits, so that
the clips and their checksum do not depend on which MNIST a user prepared).

Label: the speed of the digit, one of four classes (about 1, 2, 3 or 4 pixels per frame),
in a direction drawn uniformly from the full circle. A uniform position with a uniformly
random direction is the stationary state of a bouncing digit, so *every* frame's position
is uniform whatever the speed: a single frame carries no information about the label and
the task needs motion. (The direction of motion would not do: with reflecting borders, the
position drifts towards where the digit heads, and a late frame gives the direction away.)
The digit's identity is kept as the second label ``digit``.

Clips of your own (``tokfrag prepare video --source PATH --name NAME``, ``tokfrag.data.own``):
uint8 arrays (N, T, H, W) with one label each, read by ``read_own`` (``OWN_FORMATS``).
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import numpy as np

from ..errors import DataError

VERSION = 2
INPUT = "clip"
FRAMES = 8  # 8 frames: 4 tubelets of 2 frames in time, and room for one or two bounces
CANVAS = 64
DIGIT = 28
SPEEDS = (1.0, 2.0, 3.0, 4.0)  # pixels per frame, one class each
SPEED_JITTER = 0.25  # each clip's speed is uniform within +-0.25 of its class's
SEED = 0
PRESETS = {  # clips per split; "small" keeps the default run practical on 2 CPU cores
    "small": {"train": 2000, "test": 500},
    "full": {"train": 10000, "test": 2000},
}
CLASSES = ("speed 1", "speed 2", "speed 3", "speed 4")
# sha256 of the generated clips and labels per split, for the default seed (see ``checksum``).
EXPECTED = {
    "small": {"train": "35ca0b66d698ef3cddef4b48d001f5843ea2120706f2fecd1cda7ac666063148",
              "test": "2fdf9b2ed7ec0b47254cc138f9c0ea33385ab00405a1a966c2fd43a0f94273ff"},
}


def source_info(source: str | None = None, preset: str = "small") -> dict:
    if source is not None:
        raise DataError("the embedded video clips are generated from the embedded MNIST digits; prepare your own "
                        f"clips under a name of their own.\nFix: tokfrag prepare video --source {source} --name NAME")
    if preset not in PRESETS:
        raise DataError(f"unknown preset {preset!r}; valid presets: {', '.join(PRESETS)}")
    from . import mnist

    mnist_info = mnist.source_info(None)
    return {"source": f"Moving MNIST generated from {mnist_info['source']}", "mnist_sha256": mnist_info["sha256"],
            "preset": preset, "seed": SEED, "frames": FRAMES, "canvas": CANVAS, "speeds": list(SPEEDS),
            "clips": PRESETS[preset]}


def trajectory(rng: np.random.Generator, speed_class: int) -> np.ndarray:
    """(FRAMES, 2) integer top-left positions (y, x) of a digit bouncing at the class's speed."""
    limit = CANVAS - DIGIT
    pos = rng.uniform(0, limit, size=2)
    angle = rng.uniform(0, 2 * np.pi)
    speed = SPEEDS[speed_class] + rng.uniform(-SPEED_JITTER, SPEED_JITTER)
    vel = np.array([np.sin(angle), np.cos(angle)]) * speed
    out = np.empty((FRAMES, 2), dtype=np.int64)
    for t in range(FRAMES):
        out[t] = np.rint(pos)
        pos = pos + vel
        for axis in range(2):  # reflect at the borders
            if pos[axis] < 0:
                pos[axis], vel[axis] = -pos[axis], -vel[axis]
            elif pos[axis] > limit:
                pos[axis], vel[axis] = 2 * limit - pos[axis], -vel[axis]
    return out


def generate(digits: np.ndarray, digit_labels: np.ndarray, n: int, seed: int, quiet: bool = True):
    """``n`` clips (n, FRAMES, 64, 64) uint8, speed-class labels and digit labels."""
    from tqdm.auto import tqdm

    rng = np.random.default_rng(seed)
    clips = np.zeros((n, FRAMES, CANVAS, CANVAS), dtype=np.uint8)
    classes = rng.integers(0, len(CLASSES), n)
    picks = rng.integers(0, len(digits), n)
    for i in tqdm(range(n), desc="generating clips", unit="clip", disable=quiet):
        for t, (y, x) in enumerate(trajectory(rng, int(classes[i]))):
            clips[i, t, y:y + DIGIT, x:x + DIGIT] = digits[picks[i]]
    return clips, classes.astype(np.int64), digit_labels[picks].astype(np.int64)


def checksum(clips: np.ndarray, labels: np.ndarray) -> str:
    h = hashlib.sha256()
    h.update(np.ascontiguousarray(clips).tobytes())
    h.update(np.ascontiguousarray(labels, dtype=np.int64).tobytes())
    return h.hexdigest()


def build(info: dict, quiet: bool = True):
    import datasets as hf

    from . import mnist

    digits = mnist.load_source(mnist.source_info(None), quiet=quiet)
    features = hf.Features({
        INPUT: hf.Array3D(shape=(FRAMES, CANVAS, CANVAS), dtype="uint8"),
        "label": hf.ClassLabel(names=list(CLASSES)),
        "digit": hf.ClassLabel(names=[str(i) for i in range(10)]),
    })
    out = {}
    for k, split in enumerate(("train", "test")):
        x, y = digits[split]
        clips, speed, digit = generate(x, y, info["clips"][split], info["seed"] * 2 + k, quiet=quiet)
        expected = (EXPECTED.get(info["preset"]) or {}).get(split)
        got = checksum(clips, speed)
        if expected and got != expected:
            raise DataError(f"generated {split} clips have sha256 {got}, expected {expected} (datasets/video.md).\n"
                            "Fix: check that numpy and the MNIST source are the pinned ones (make setup)")
        out[split] = hf.Dataset.from_dict({INPUT: clips, "label": speed, "digit": digit},
                                          features=features, split=split)
    return hf.DatasetDict(out)


EXTRA_CHUNK = 2000  # more training clips come in chunks of their own seed, so that 2x is part of 4x


def grow(meta: dict, n: int) -> tuple[np.ndarray, np.ndarray]:
    """``n`` more training clips (the ``data=F`` scale points above 1): generated from the training digits
    as the split's own clips are, chunk k with the seed [seed, 2, k] (the splits use 2 seed and 2 seed + 1),
    cached beside the prepared data. The test clips stay the same."""
    from . import mnist
    from .store import cache_root

    seed = int(meta.get("source", {}).get("seed", SEED))
    folder = cache_root() / "video" / "extra"
    xs, ys, digits = [], [], None
    for k in range(-(-n // EXTRA_CHUNK)):
        path = folder / f"chunk-{seed}-{k}.npz"
        if not path.exists():
            if digits is None:
                digits = mnist.load_source(mnist.source_info(None), quiet=True)["train"]
            clips, speed, _ = generate(*digits, EXTRA_CHUNK, [seed, 2, k])
            folder.mkdir(parents=True, exist_ok=True)
            tmp = folder / f".{path.name}.{os.getpid()}.npz"
            np.savez(tmp, clips=clips, labels=speed)
            os.replace(tmp, path)
        with np.load(path) as f:
            xs.append(f["clips"])
            ys.append(f["labels"])
    if not xs:
        return np.zeros((0, FRAMES, CANVAS, CANVAS), np.uint8), np.zeros(0, np.int64)
    return np.concatenate(xs)[:n], np.concatenate(ys)[:n]


def to_numpy(column) -> np.ndarray:
    return np.asarray(column, dtype=np.uint8)


# --- clips of your own ------------------------------------------------------------------

# Array names in a .npz file (the first present of each), or .npy files in a folder (NAME.npy).
OWN_ARRAYS = {"train_clips": ("clips", "x", "x_train", "train_clips"),
              "train_labels": ("labels", "y", "y_train", "train_labels"),
              "test_clips": ("x_test", "test_clips"),
              "test_labels": ("y_test", "test_labels")}
OWN_FORMATS = ("a .npz file with the arrays clips (N, T, H, W) uint8 and labels (N,) (also named x / y), "
               "optionally test_clips and test_labels (x_test / y_test) for a test split of your own; "
               "or a folder of the same arrays as .npy files (clips.npy, labels.npy...)")


def own_files(path: Path) -> list[Path]:
    """The files a clip source consists of (its identity: their sha256)."""
    if path.is_file() and path.suffix.lower() == ".npz":
        return [path]
    if path.is_dir():
        found = sorted(p for p in path.glob("*.npy") if p.stem in {n for ns in OWN_ARRAYS.values() for n in ns})
        if found:
            return found
    raise DataError(f"--source {path}: not a clip source.\nFix: pass {OWN_FORMATS}")


def _arrays(path: Path) -> dict[str, np.ndarray]:
    try:
        if path.is_file():
            if path.stat().st_size == 0:
                raise DataError(f"{path}: the file is empty.\nFix: pass {OWN_FORMATS}")
            with np.load(path, allow_pickle=False) as z:
                return {k: z[k] for k in z.files}
        return {p.stem: np.load(p, allow_pickle=False) for p in own_files(path)}
    except (OSError, ValueError, EOFError) as e:
        raise DataError(f"{path}: cannot be read as numpy arrays ({e}).\nFix: pass {OWN_FORMATS} "
                        "(saved with numpy.savez / numpy.save, without pickled objects)") from None


def read_own(path: Path) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """{split: (clips uint8 (N, T, H, W), raw labels (N,))}: split "all", or "train" and "test"."""
    arrays = _arrays(path)
    found = {}
    for key, names in OWN_ARRAYS.items():
        name = next((n for n in names if n in arrays), None)
        if name is not None:
            found[key] = (name, arrays[name])
    for key in ("train_clips", "train_labels"):
        if key not in found:
            raise DataError(f"{path}: no array named {' or '.join(OWN_ARRAYS[key])} (arrays: "
                            f"{', '.join(sorted(arrays)) or 'none'}).\nFix: pass {OWN_FORMATS}")
    if ("test_clips" in found) != ("test_labels" in found):
        raise DataError(f"{path}: test clips and test labels come together; only "
                        f"{found.get('test_clips', found.get('test_labels'))[0]} is there.\nFix: pass {OWN_FORMATS}")
    out = {}
    for split in ("train", "test"):
        if f"{split}_clips" not in found:
            continue
        (xn, x), (yn, y) = found[f"{split}_clips"], found[f"{split}_labels"]
        if x.ndim != 4:
            raise DataError(f"{path}: array {xn} has shape {x.shape}; expected clips (N, T, H, W).\n"
                            "Fix: one grey-scale clip per item: frames x height x width")
        if x.dtype != np.uint8:
            raise DataError(f"{path}: array {xn} is {x.dtype}; expected uint8 (0-255).\n"
                            "Fix: scale and convert it, e.g. (clips * 255).round().astype(numpy.uint8) for values 0-1")
        if y.ndim != 1 or len(y) != len(x):
            raise DataError(f"{path}: {len(x)} clips in {xn} but labels {yn} of shape {y.shape}.\n"
                            "Fix: one label per clip, a 1-d array as long as the clips")
        if len(x) == 0:
            raise DataError(f"{path}: array {xn} holds no clip.\nFix: pass {OWN_FORMATS}")
        out[split] = (np.ascontiguousarray(x), y)
    if "test" in out and out["test"][0].shape[1:] != out["train"][0].shape[1:]:
        raise DataError(f"{path}: test clips of {out['test'][0].shape[1:]} where the training clips are "
                        f"{out['train'][0].shape[1:]}.\nFix: both splits need clips of one shape")
    return out if "test" in out else {"all": out["train"]}
