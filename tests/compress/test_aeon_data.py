"""``--data aeon:NAME``: sets shipped inside the aeon wheel, loaded offline, channels-last and normalised."""

from __future__ import annotations

import socket

import numpy as np
import pytest

from tinycompress.compress.data import aeon_datasets, load_dataset
from tinycompress.errors import DataError

pytestmark = pytest.mark.host


@pytest.fixture
def offline(monkeypatch):
    """Any connection attempt fails the test: aeon's downloader must never run."""

    def refuse(*args, **kwargs):
        raise AssertionError("the aeon loader tried to reach the network")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)


def test_shipped_classification_sets_are_listed_and_regression_sets_are_not():
    names = aeon_datasets()
    assert {"BasicMotions", "OSULeaf", "ArrowHead", "GunPoint", "ItalyPowerDemand", "ACSF1"} <= set(names)
    assert "Covid3Month" not in names and "CardanoSentiment" not in names  # @targetLabel: regression


def test_basic_motions_is_channels_last_normalised_with_integer_labels(offline):
    from aeon.datasets import load_from_ts_file

    data = load_dataset("aeon:BasicMotions")
    assert data.name == "aeon:BasicMotions"
    assert data.x_train.shape == (40, 100, 6) and data.x_test.shape == (40, 100, 6)
    assert data.x_train.dtype == np.float32 and data.y_train.dtype == np.int64
    np.testing.assert_allclose(data.x_train.mean(axis=(0, 1)), 0.0, atol=1e-5)
    np.testing.assert_allclose(data.x_train.std(axis=(0, 1)), 1.0, atol=1e-5)
    assert data.num_classes == 4 and np.bincount(data.y_train).tolist() == [10, 10, 10, 10]
    train, test = aeon_datasets()["BasicMotions"]
    raw_train, labels_train = load_from_ts_file(str(train))
    raw_test, labels_test = load_from_ts_file(str(test))
    mean = raw_train.mean(axis=(0, 2))
    std = raw_train.std(axis=(0, 2))
    expected = (raw_test[3, :, :].T - mean) / std  # test sample 3 scaled with *train* statistics
    np.testing.assert_allclose(data.x_test[3], expected, rtol=1e-4, atol=1e-4)
    names = sorted(set(labels_train))  # non-numeric class names map alphabetically
    assert [names[i] for i in data.y_test] == list(labels_test)


def test_numeric_class_names_are_ordered_by_value(offline):
    data = load_dataset("aeon:PickupGestureWiimoteZ")  # classes "1".."10"; ships an equal-length _eq variant
    from aeon.datasets import load_from_ts_file

    _, labels = load_from_ts_file(str(aeon_datasets()["PickupGestureWiimoteZ"][0]))
    assert data.y_train.tolist() == [int(v) - 1 for v in labels]
    assert data.x_train.shape[1:] == (361, 1)


@pytest.mark.parametrize("name", ["FordA", "Covid3Month", ""])
def test_a_name_not_shipped_is_a_one_line_error_listing_the_available_sets(offline, name):
    with pytest.raises(DataError) as info:
        load_dataset(f"aeon:{name}")
    message = str(info.value)
    assert "\n" not in message and repr(name) in message
    assert "available: ACSF1, ArrowHead, BasicMotions" in message
