"""Data sets for compression and profiling: a ``.npz`` file, a builtin name, or ``aeon:NAME``.

This module imports numpy and scikit-learn only (no TensorFlow): the profile
stage reuses it to stream the same test set to a device.
"""

from __future__ import annotations

import dataclasses
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from tinycompress.compress.metrics import AUTOENCODER, CLASSIFICATION, REGRESSION, TASKS
from tinycompress.errors import DataError

BUILTINS = ("digits",)
AEON_PREFIX = "aeon:"
_KEYS = ("x_train", "y_train", "x_test", "y_test")
ANOMALY_KEY = "y_test_anomaly"  # optional, 0 normal / 1 anomalous per test sample: an autoencoder's ROC AUC
_SAVE_HINT = "save it with np.savez(path, x_train=..., y_train=..., x_test=..., y_test=...)"
_ZIP_MAGICS = (b"PK\x03\x04", b"PK\x05\x06")  # a zip's first entry, or an empty zip
_NPY_MAGIC = b"\x93NUMPY"


@dataclass(frozen=True)
class Dataset:
    """Float32 features and targets, split into train and test.

    Targets are int64 class labels for classification, float32 values for
    regression, and the features themselves for an autoencoder.
    ``anomaly_test`` (0/1 per test sample) lets an autoencoder report ROC AUC.
    """

    name: str
    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    task: str = CLASSIFICATION
    anomaly_test: np.ndarray | None = None

    @property
    def sample_shape(self) -> tuple[int, ...]:
        return tuple(self.x_train.shape[1:])

    @property
    def num_classes(self) -> int:
        """One more than the largest label seen (labels are 0-based)."""
        return int(max(self.y_train.max(), self.y_test.max())) + 1

    def reshaped(self, shape: tuple[int, ...]) -> Dataset:
        """The same data with every sample reshaped to ``shape`` (targets untouched)."""
        return dataclasses.replace(self, x_train=self.x_train.reshape((-1, *shape)),
                                   x_test=self.x_test.reshape((-1, *shape)))


def load_dataset(spec: str | Path, task: str | None = None) -> Dataset:
    """Load ``spec``: a builtin name (``digits``), ``aeon:NAME`` or a ``.npz`` path.

    A ``.npz`` holds ``x_train`` and ``x_test``, and ``y_train``/``y_test``
    unless it is an autoencoder's; ``y_test_anomaly`` is optional. The task
    is detected from the targets (:func:`detect_task`) unless ``task`` names
    it; a task the data contradicts is an error. A builtin set is
    classification, or reconstruction of its features with
    ``task="autoencoder"``.
    """
    if task is not None and task not in TASKS:
        raise DataError(f"unknown task {task!r}; use one of {', '.join(TASKS)}")
    text = str(spec)
    if text in BUILTINS or text.startswith(AEON_PREFIX):
        data = _digits() if text in BUILTINS else _aeon(text[len(AEON_PREFIX):])
        if task == REGRESSION:
            raise DataError(f"{text} holds class labels, not regression targets; "
                            "use --task classification or autoencoder, or give a .npz with float targets")
        if task == AUTOENCODER:
            return dataclasses.replace(data, y_train=data.x_train, y_test=data.x_test, task=AUTOENCODER)
        return data
    path = Path(text)
    if not path.exists():
        raise DataError(
            f"data set {text!r} not found; give a .npz file with {', '.join(_KEYS)} "
            f"or a builtin name ({', '.join(BUILTINS)}, or aeon:NAME for a set shipped with aeon)"
        )
    arrays = _read_npz(path)
    return _validated(path.name, arrays, task)


def _digits() -> Dataset:
    """scikit-learn's 8x8 digits, scaled to [0, 1], split 80/20 with a fixed seed."""
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    digits = load_digits()
    x = (digits.images / 16.0).astype(np.float32)[..., np.newaxis]
    y = digits.target.astype(np.int64)
    x_train, x_test, y_train, y_test = train_test_split(
        x, y, test_size=0.2, random_state=0, stratify=y
    )
    return Dataset("digits", x_train, y_train, x_test, y_test)


def aeon_datasets() -> dict[str, tuple[Path, Path]]:
    """The classification sets shipped inside the installed ``aeon`` wheel: name → (train, test) ``.ts`` files.

    Only files on disk count, so loading never reaches for aeon's downloader
    (which fails offline). Where aeon also ships an equal-length ``_eq``
    variant of a set, that one is used (a model needs one series length).
    """
    import importlib.resources

    try:
        root = Path(str(importlib.resources.files("aeon"))) / "datasets" / "data"
    except ModuleNotFoundError:
        raise DataError("aeon data sets need the aeon package; pip install aeon==1.6.0") from None
    found: dict[str, tuple[Path, Path]] = {}
    for folder in sorted(root.iterdir()) if root.is_dir() else ():
        name = folder.name
        stem = name + "_eq" if (folder / f"{name}_eq_TRAIN.ts").is_file() else name
        train, test = folder / f"{stem}_TRAIN.ts", folder / f"{stem}_TEST.ts"
        if train.is_file() and test.is_file() and _has_class_labels(train):
            found[name] = (train, test)
    return found


def _has_class_labels(path: Path) -> bool:
    """Whether a ``.ts`` header declares class labels (regression sets declare ``@targetLabel``)."""
    with path.open(encoding="utf-8", errors="replace") as handle:
        for line in handle:
            words = line.lower().split()
            if words[:1] == ["@data"]:
                return False
            if words[:2] == ["@classlabel", "true"]:
                return True
    return False


def _aeon(name: str) -> Dataset:
    """A shipped aeon set as channels-last float32 (N, length, channels), normalised with train statistics.

    Labels become 0..K-1 in the class names' natural order (numeric when
    every name is a number, alphabetical otherwise); train and test are the
    splits aeon ships.
    """
    available = aeon_datasets()
    if name not in available:
        raise DataError(
            f"aeon data set {name!r} is not shipped with the installed aeon (others would need a download); "
            f"available: {', '.join(available) or 'none'}"
        )
    from aeon.datasets import load_from_ts_file

    (x_train, y_train), (x_test, y_test) = (load_from_ts_file(str(path)) for path in available[name])
    classes = sorted(set(y_train) | set(y_test), key=_class_key)
    index = {label: i for i, label in enumerate(classes)}
    x_train, x_test = (np.transpose(x, (0, 2, 1)).astype(np.float32) for x in (x_train, x_test))
    mean = x_train.mean(axis=(0, 1))
    std = x_train.std(axis=(0, 1))
    std[std == 0] = 1.0
    arrays = {
        "x_train": (x_train - mean) / std,
        "y_train": np.array([index[v] for v in y_train], dtype=np.int64),
        "x_test": (x_test - mean) / std,
        "y_test": np.array([index[v] for v in y_test], dtype=np.int64),
    }
    return _validated(f"{AEON_PREFIX}{name}", arrays)


def _class_key(label: str) -> tuple[int, float, str]:
    """Sort numeric class names by value (``2`` before ``10``), others alphabetically."""
    try:
        return (0, float(label), label)
    except ValueError:
        return (1, 0.0, label)


def _read_npz(path: Path) -> dict[str, np.ndarray]:
    """The four arrays of a .npz; never unpickles (NumPy would try pickle on any non-NumPy file)."""
    try:
        with path.open("rb") as handle:
            head = handle.read(len(_NPY_MAGIC))
        if not head.startswith(_ZIP_MAGICS + (_NPY_MAGIC,)):
            raise DataError(
                f"{path} is not a valid .npz file (not a zip archive: corrupt, or another format); {_SAVE_HINT}"
            )
        loaded = np.load(path, allow_pickle=False)
        if not isinstance(loaded, np.lib.npyio.NpzFile):
            raise DataError(f"{path} is a single .npy array; save a .npz with {', '.join(_KEYS)}")
        with loaded as npz:
            present = set(npz.files)
            has_targets = bool(present & {"y_train", "y_test"})  # neither: an autoencoder's data
            missing = [k for k in _KEYS if k not in present and (k.startswith("x_") or has_targets)]
            if missing:
                raise DataError(f"{path} lacks {', '.join(missing)}; {_SAVE_HINT}")
            return {k: _array(path, npz, k) for k in (*_KEYS, ANOMALY_KEY) if k in present}
    except DataError:
        raise
    except OSError as exc:
        raise DataError(f"{path} cannot be read ({exc.strerror or exc}); give a readable .npz file") from None
    except (ValueError, zipfile.BadZipFile, zlib.error, EOFError) as exc:
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise DataError(f"{path} is not a valid .npz file, it is corrupt ({reason}); {_SAVE_HINT}") from None


def _array(path: Path, npz: np.lib.npyio.NpzFile, key: str) -> np.ndarray:
    """One member of ``npz``, which must be a numeric .npy array."""
    try:
        array = npz[key]
    except ValueError:  # NumPy refuses object arrays without pickle
        raise DataError(
            f"{path}: {key} holds Python objects, not numbers; convert it (x.astype('float32')) and {_SAVE_HINT}"
        ) from None
    if not isinstance(array, np.ndarray):  # NpzFile returns the raw bytes of a member that is not a .npy
        raise DataError(f"{path}: {key} is not a NumPy array, the file is corrupt; {_SAVE_HINT}")
    return array


def _validated(name: str, arrays: dict[str, np.ndarray], task: str | None = None) -> Dataset:
    for split in ("train", "test"):
        x, y = arrays[f"x_{split}"], arrays.get(f"y_{split}")
        if x.ndim < 2 or len(x) == 0:
            raise DataError(f"x_{split} in {name} must be a non-empty array of samples (got shape {x.shape})")
        if not np.issubdtype(x.dtype, np.number) or np.issubdtype(x.dtype, np.complexfloating):
            raise DataError(f"x_{split} in {name} has dtype {x.dtype}; features must be real numbers")
        if y is not None and len(y) != len(x):
            raise DataError(f"{name} has {len(x)} x_{split} samples but {len(y)} y_{split} labels; give one label per sample")
        if not np.all(np.isfinite(x)):
            bad = int(np.size(x) - np.count_nonzero(np.isfinite(x)))
            raise DataError(f"x_{split} in {name} holds {bad} NaN/inf values; clean or impute them before compressing")
    if arrays["x_train"].shape[1:] != arrays["x_test"].shape[1:]:
        raise DataError(
            f"x_train samples have shape {arrays['x_train'].shape[1:]} but x_test samples "
            f"{arrays['x_test'].shape[1:]} in {name}; both splits must share one sample shape"
        )
    detected = detect_task(name, arrays, task)
    if task is not None and task != detected:
        if not (task == REGRESSION and detected == CLASSIFICATION):  # whole numbers are fine regression targets
            raise DataError(_contradiction(name, task, detected))
        detected = task
    x_train, x_test = arrays["x_train"].astype(np.float32), arrays["x_test"].astype(np.float32)
    if detected == CLASSIFICATION:
        for split in ("train", "test"):
            _check_labels(name, split, arrays[f"y_{split}"])
        y_train, y_test = arrays["y_train"].astype(np.int64), arrays["y_test"].astype(np.int64)
    elif detected == REGRESSION:
        for split in ("train", "test"):
            if not np.all(np.isfinite(arrays[f"y_{split}"])):
                raise DataError(f"y_{split} in {name} holds NaN/inf targets; clean them before compressing")
        y_train, y_test = arrays["y_train"].astype(np.float32), arrays["y_test"].astype(np.float32)
    else:
        y_train, y_test = x_train, x_test
    return Dataset(name, x_train, y_train, x_test, y_test, detected, _anomaly(name, arrays, detected))


def detect_task(name: str, arrays: dict[str, np.ndarray], task: str | None = None) -> str:
    """The task ``arrays`` hold: no targets, or targets equal to the features, is an autoencoder;
    whole-number labels of shape (n,) in ``y_train`` are classification; other numeric targets regression.

    One-hot rows are refused unless ``task`` says regression: they are almost
    always class labels that need ``argmax``, and would otherwise train with MSE.
    """
    y_train, y_test = arrays.get("y_train"), arrays.get("y_test")
    if y_train is None or y_test is None:
        return AUTOENCODER
    for key, y in (("y_train", y_train), ("y_test", y_test)):
        if not np.issubdtype(y.dtype, np.number) or np.issubdtype(y.dtype, np.complexfloating):
            raise DataError(f"{key} in {name} has dtype {y.dtype}; give integer class labels 0..N-1 or float targets")
    if all(_same_values(arrays[f"x_{split}"], arrays[f"y_{split}"]) for split in ("train", "test")):
        return AUTOENCODER
    if y_train.ndim == 1 and (np.issubdtype(y_train.dtype, np.integer)
                              or bool(np.all(np.isfinite(y_train)) and np.all(y_train == np.round(y_train)))):
        return CLASSIFICATION
    if y_train.ndim == 2 and task != REGRESSION and _one_hot(y_train):
        raise DataError(
            f"y_train in {name} has shape {y_train.shape} and holds one-hot rows; give integer class labels "
            "of shape (n,) (y.argmax(axis=1)), or --task regression if they are real targets"
        )
    return REGRESSION


def _same_values(x: np.ndarray, y: np.ndarray) -> bool:
    return x.size == y.size and np.array_equal(x.reshape(-1), y.reshape(-1))


def _one_hot(y: np.ndarray) -> bool:
    return bool(np.all((y == 0) | (y == 1)) and np.all(y.sum(axis=1) == 1))


def _contradiction(name: str, task: str, detected: str) -> str:
    """The one-line error for a ``--task`` the data set ``name`` contradicts."""
    if detected == AUTOENCODER:
        return (f"--task {task} needs targets, but {name} has no y_train/y_test (or they equal x): "
                "it is an autoencoder's data; add the targets or use --task autoencoder")
    if task == AUTOENCODER:
        return (f"--task autoencoder reconstructs x, but y_train/y_test in {name} differ from x_train/x_test; "
                "drop y_train/y_test from the .npz (or set them to x), or use --task " + detected)
    if task == CLASSIFICATION:
        return (f"--task classification needs integer class labels of shape (n,), but y_train in {name} holds "
                f"float targets; use --task regression, or give labels 0..N-1")
    return f"--task {task} contradicts the {detected} targets in {name}; use --task {detected}"


def _anomaly(name: str, arrays: dict[str, np.ndarray], task: str) -> np.ndarray | None:
    """The test set's 0/1 anomaly labels, if the data carries them (autoencoders only)."""
    labels = arrays.get(ANOMALY_KEY)
    if labels is None:
        return None
    if task != AUTOENCODER:
        raise DataError(f"{ANOMALY_KEY} in {name} scores an autoencoder's reconstruction error, but the task is "
                        f"{task}; drop it, or use --task autoencoder")
    if labels.shape != (len(arrays["x_test"]),) or not np.all((labels == 0) | (labels == 1)):
        raise DataError(f"{ANOMALY_KEY} in {name} must hold one 0 (normal) or 1 (anomalous) per x_test sample "
                        f"(got shape {labels.shape}); fix it or drop it")
    return labels.astype(np.int64)


def _check_labels(name: str, split: str, y: np.ndarray) -> None:
    key = f"y_{split}"
    if y.ndim != 1:
        raise DataError(
            f"{key} in {name} has shape {y.shape}; give integer class labels of shape (n,) "
            "(for one-hot labels use y.argmax(axis=1))"
        )
    if np.issubdtype(y.dtype, np.floating):
        if not np.all(np.isfinite(y)):
            raise DataError(f"{key} in {name} holds NaN/inf labels; give integer class labels")
        if not np.all(y == np.round(y)):
            raise DataError(f"{key} in {name} holds non-integer labels; give integer class labels 0..N-1 "
                            "(or --task regression for float targets)")
    elif not np.issubdtype(y.dtype, np.integer):
        raise DataError(f"{key} in {name} has dtype {y.dtype}; give integer class labels 0..N-1")
    if y.min() < 0:
        raise DataError(f"{key} in {name} holds negative label {int(y.min())}; labels must be 0..N-1")


def match_model(data: Dataset, input_shape: tuple[int, ...], num_outputs: int,
                output_shape: tuple[int, ...] | None = None) -> Dataset:
    """Check ``data`` against a model's sample shape and output size.

    Samples whose element count equals the model's input are reshaped (a
    flat 64-vector feeds an 8x8x1 input); anything else is an error. So are
    regression and autoencoder targets, against ``output_shape`` (default:
    ``num_outputs`` values), which they must fill exactly.
    """
    if data.sample_shape != tuple(input_shape):
        if int(np.prod(data.sample_shape)) != int(np.prod(input_shape)):
            raise DataError(
                f"data samples have shape {data.sample_shape} but the model expects {tuple(input_shape)}; "
                "give data that matches the model's input"
            )
        data = data.reshaped(tuple(input_shape))
    if data.task != CLASSIFICATION:
        return _match_targets(data, tuple(output_shape or (num_outputs,)))
    if data.num_classes > num_outputs:
        raise DataError(
            f"labels go up to {data.num_classes - 1} but the model has {num_outputs} outputs; "
            f"give labels 0..{num_outputs - 1} or a model with {data.num_classes} outputs"
        )
    return data


def _match_targets(data: Dataset, output_shape: tuple[int, ...]) -> Dataset:
    """Regression or autoencoder targets reshaped to the model's output, which they must fill exactly."""
    per_sample = int(np.prod(data.y_train.shape[1:]))
    if per_sample != int(np.prod(output_shape)):
        fix = ("an autoencoder's output must have as many values as its input"
               if data.task == AUTOENCODER else "give targets shaped like the model's output")
        raise DataError(f"{data.task} targets have {per_sample} values per sample but the model outputs "
                        f"{output_shape}; {fix}")
    return dataclasses.replace(data, y_train=data.y_train.reshape((-1, *output_shape)),
                               y_test=data.y_test.reshape((-1, *output_shape)))
