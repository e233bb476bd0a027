"""Data sets: the builtin digits split, .npz loading and every way data can be wrong."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from tinycompress.compress.data import load_dataset, match_model
from tinycompress.errors import DataError

pytestmark = pytest.mark.host


def _npz(path: Path, **overrides: np.ndarray) -> Path:
    rng = np.random.default_rng(0)
    arrays = {
        "x_train": rng.random((20, 4, 4, 1), dtype=np.float32),
        "y_train": rng.integers(0, 3, 20),
        "x_test": rng.random((6, 4, 4, 1), dtype=np.float32),
        "y_test": rng.integers(0, 3, 6),
    }
    arrays.update(overrides)
    arrays = {k: v for k, v in arrays.items() if v is not None}
    np.savez(path, **arrays)
    return path


def test_digits_is_deterministic_and_stratified(digits):
    again = load_dataset("digits")
    assert digits.x_train.shape == (1437, 8, 8, 1) and digits.x_test.shape == (360, 8, 8, 1)
    assert np.array_equal(digits.x_test, again.x_test) and np.array_equal(digits.y_train, again.y_train)
    assert digits.x_train.dtype == np.float32 and 0.0 <= digits.x_train.min() and digits.x_train.max() <= 1.0
    assert set(np.bincount(digits.y_test)) <= {35, 36, 37}
    assert digits.num_classes == 10


def test_npz_round_trip(tmp_path):
    data = load_dataset(_npz(tmp_path / "d.npz", y_train=np.arange(20) % 3))
    assert data.x_train.dtype == np.float32 and data.y_train.dtype == np.int64
    assert data.sample_shape == (4, 4, 1) and data.num_classes == 3


def test_integral_float_labels_are_accepted(tmp_path):
    data = load_dataset(_npz(tmp_path / "d.npz", y_test=np.array([0.0, 1, 2, 1, 0, 2])))
    assert data.y_test.tolist() == [0, 1, 2, 1, 0, 2]


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"x_train": np.full((20, 4, 4, 1), np.nan, np.float32)}, "NaN/inf"),
        ({"x_test": np.full((6, 4, 4, 1), np.inf, np.float32)}, "NaN/inf"),
        ({"y_train": np.eye(3)[np.arange(20) % 3]}, "argmax"),
        ({"y_test": np.array([0.5, 1, 2, 1, 0, 2])}, "non-integer"),
        ({"y_test": np.array([-1, 1, 2, 1, 0, 2])}, "negative"),
        ({"y_train": np.zeros(19, np.int64)}, "one label per sample"),
        ({"x_test": np.zeros((6, 5, 4, 1), np.float32)}, "share one sample shape"),
        ({"y_test": None}, "lacks y_test"),
        ({"y_train": np.array(["a"] * 20)}, "integer class labels"),
    ],
)
def test_bad_npz_is_a_data_error(tmp_path, overrides, message):
    with pytest.raises(DataError, match=message) as info:
        load_dataset(_npz(tmp_path / "d.npz", **overrides))
    assert "\n" not in str(info.value)


def test_missing_and_corrupt_files(tmp_path):
    with pytest.raises(DataError, match="not found"):
        load_dataset(tmp_path / "nope.npz")
    corrupt = tmp_path / "corrupt.npz"
    corrupt.write_bytes(b"PK\x03\x04 not really a zip")
    with pytest.raises(DataError, match="not a valid .npz file, it is corrupt"):
        load_dataset(corrupt)
    single = tmp_path / "single.npy"
    np.save(single, np.zeros(3))
    with pytest.raises(DataError, match="single .npy"):
        load_dataset(single)


@pytest.mark.parametrize("content", [np.random.default_rng(0).bytes(300), b"x_train,y_train\n1,2\n", b"\x80\x04K\x01."])
def test_garbage_npz_is_corrupt_and_never_unpickled(tmp_path, content):
    """NumPy falls back to pickle for unknown bytes; the user must hear "corrupt", not "allow_pickle"."""
    path = tmp_path / "data.npz"
    path.write_bytes(content)
    with pytest.raises(DataError, match="data.npz is not a valid .npz file") as info:
        load_dataset(path)
    assert "pickle" not in str(info.value) and "\n" not in str(info.value)


def test_object_arrays_are_refused_without_pickle(tmp_path):
    objects = np.empty(6, dtype=object)
    objects[:] = "text"
    path = _npz(tmp_path / "d.npz", x_test=objects)
    with pytest.raises(DataError, match="x_test holds Python objects, not numbers") as info:
        load_dataset(path)
    assert "pickle" not in str(info.value)


def test_match_model_reshapes_flat_samples_and_checks_labels(digits):
    flat = match_model(digits.reshaped((64,)), (8, 8, 1), 10)
    assert flat.sample_shape == (8, 8, 1) and np.array_equal(flat.x_test, digits.x_test)
    with pytest.raises(DataError, match=r"shape \(8, 8, 1\) but the model expects \(28, 28, 1\)"):
        match_model(digits, (28, 28, 1), 10)
    with pytest.raises(DataError, match="labels go up to 9 but the model has 5 outputs"):
        match_model(digits, (8, 8, 1), 5)


def test_data_module_does_not_import_tensorflow():
    code = "import sys, tinycompress.compress.data as d; d.load_dataset('digits'); print('tensorflow' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "False"
