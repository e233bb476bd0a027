"""Data sets for compression and profiling: a ``.npz`` file or a builtin name.

This module imports numpy and scikit-learn only (no TensorFlow): the profile
stage reuses it to stream the same test set to a device.
"""

from __future__ import annotations

import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from tinycompress.errors import DataError

BUILTINS = ("digits",)
_KEYS = ("x_train", "y_train", "x_test", "y_test")


@dataclass(frozen=True)
class Dataset:
    """Float32 features and int64 class labels, split into train and test."""

    name: str
    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray

    @property
    def sample_shape(self) -> tuple[int, ...]:
        return tuple(self.x_train.shape[1:])

    @property
    def num_classes(self) -> int:
        """One more than the largest label seen (labels are 0-based)."""
        return int(max(self.y_train.max(), self.y_test.max())) + 1

    def reshaped(self, shape: tuple[int, ...]) -> Dataset:
        """The same data with every sample reshaped to ``shape``."""
        return Dataset(
            self.name,
            self.x_train.reshape((-1, *shape)),
            self.y_train,
            self.x_test.reshape((-1, *shape)),
            self.y_test,
        )


def load_dataset(spec: str | Path) -> Dataset:
    """Load ``spec``: a builtin name (``digits``) or a ``.npz`` path.

    A ``.npz`` must hold ``x_train``, ``y_train``, ``x_test``, ``y_test`` with
    integer class labels; features become float32, labels int64.
    """
    text = str(spec)
    if text in BUILTINS:
        return _digits()
    path = Path(text)
    if not path.exists():
        raise DataError(
            f"data set {text!r} not found; give a .npz file with {', '.join(_KEYS)} "
            f"or a builtin name ({', '.join(BUILTINS)})"
        )
    arrays = _read_npz(path)
    return _validated(path.name, arrays)


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


def _read_npz(path: Path) -> dict[str, np.ndarray]:
    try:
        loaded = np.load(path, allow_pickle=False)
        if not isinstance(loaded, np.lib.npyio.NpzFile):
            raise DataError(f"{path} is a single .npy array; save a .npz with {', '.join(_KEYS)}")
        with loaded as npz:
            missing = [k for k in _KEYS if k not in npz.files]
            if missing:
                raise DataError(
                    f"{path} lacks {', '.join(missing)}; save it with "
                    "np.savez(path, x_train=..., y_train=..., x_test=..., y_test=...)"
                )
            return {k: npz[k] for k in _KEYS}
    except DataError:
        raise
    except (OSError, ValueError, zipfile.BadZipFile, EOFError) as exc:
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise DataError(
            f"{path} is not a readable .npz file ({reason}); "
            "save it with np.savez(path, x_train=..., y_train=..., x_test=..., y_test=...)"
        ) from None


def _validated(name: str, arrays: dict[str, np.ndarray]) -> Dataset:
    for split in ("train", "test"):
        x, y = arrays[f"x_{split}"], arrays[f"y_{split}"]
        if x.ndim < 2 or len(x) == 0:
            raise DataError(f"x_{split} in {name} must be a non-empty array of samples (got shape {x.shape})")
        if not np.issubdtype(x.dtype, np.number) or np.issubdtype(x.dtype, np.complexfloating):
            raise DataError(f"x_{split} in {name} has dtype {x.dtype}; features must be real numbers")
        if len(y) != len(x):
            raise DataError(f"{name} has {len(x)} x_{split} samples but {len(y)} y_{split} labels; give one label per sample")
        if not np.all(np.isfinite(x)):
            bad = int(np.size(x) - np.count_nonzero(np.isfinite(x)))
            raise DataError(f"x_{split} in {name} holds {bad} NaN/inf values; clean or impute them before compressing")
        _check_labels(name, split, y)
    if arrays["x_train"].shape[1:] != arrays["x_test"].shape[1:]:
        raise DataError(
            f"x_train samples have shape {arrays['x_train'].shape[1:]} but x_test samples "
            f"{arrays['x_test'].shape[1:]} in {name}; both splits must share one sample shape"
        )
    return Dataset(
        name,
        arrays["x_train"].astype(np.float32),
        arrays["y_train"].astype(np.int64),
        arrays["x_test"].astype(np.float32),
        arrays["y_test"].astype(np.int64),
    )


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
            raise DataError(f"{key} in {name} holds non-integer labels; give integer class labels 0..N-1")
    elif not np.issubdtype(y.dtype, np.integer):
        raise DataError(f"{key} in {name} has dtype {y.dtype}; give integer class labels 0..N-1")
    if y.min() < 0:
        raise DataError(f"{key} in {name} holds negative label {int(y.min())}; labels must be 0..N-1")


def match_model(data: Dataset, input_shape: tuple[int, ...], num_outputs: int) -> Dataset:
    """Check ``data`` against a model's sample shape and output size.

    Samples whose element count equals the model's input are reshaped (a
    flat 64-vector feeds an 8x8x1 input); anything else is an error.
    """
    if data.sample_shape != tuple(input_shape):
        if int(np.prod(data.sample_shape)) != int(np.prod(input_shape)):
            raise DataError(
                f"data samples have shape {data.sample_shape} but the model expects {tuple(input_shape)}; "
                "give data that matches the model's input"
            )
        data = data.reshaped(tuple(input_shape))
    if data.num_classes > num_outputs:
        raise DataError(
            f"labels go up to {data.num_classes - 1} but the model has {num_outputs} outputs; "
            f"give labels 0..{num_outputs - 1} or a model with {data.num_classes} outputs"
        )
    return data
