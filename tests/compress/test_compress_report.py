"""The report's self-checks flag a layer that misses its target, and ``compress`` exits non-zero on it."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest

from tinycompress.cli.compress import finish
from tinycompress.compress.pipeline import CompressResult
from tinycompress.compress.report import Check, CompressReport, LayerReport, checks, int8_layout
from tinycompress.errors import CheckFailedError

pytestmark = pytest.mark.host

GOOD = LayerReport(
    name="conv", type="Conv2D", params=100, pruned=True, clustered=True, pruned_weights=["kernel"],
    clustered_weights=["kernel"], sparsity=0.5, int8_sparsity=0.5, int8_size=90, max_unique_per_channel=16,
    int8_ops=[0],
)


def _statuses(layers: list[LayerReport], target: float = 0.5, clusters: int = 16) -> tuple[str, str]:
    found = checks(layers, target, clusters)
    return found["sparsity_reached"].status, found["clusters_kept"].status


def test_checks_pass_and_fail_per_layer():
    assert _statuses([GOOD]) == ("passed", "passed")
    assert _statuses([dataclasses.replace(GOOD, int8_sparsity=44 / 90)]) == ("passed", "passed")  # one weight of rounding
    assert _statuses([dataclasses.replace(GOOD, int8_sparsity=0.4)]) == ("failed", "passed")
    assert _statuses([dataclasses.replace(GOOD, max_unique_per_channel=17)]) == ("passed", "failed")
    untouched = dataclasses.replace(GOOD, name="fc", pruned=False, clustered=False, int8_sparsity=0.0,
                                    max_unique_per_channel=200)
    assert _statuses([GOOD, untouched]) == ("passed", "passed")


def test_a_failed_check_names_the_layers_and_their_figures():
    short = dataclasses.replace(GOOD, name="fc1", int8_sparsity=0.3125)
    unmatched = dataclasses.replace(GOOD, name="fc2", int8_sparsity=None, int8_size=0, max_unique_per_channel=None)
    found = checks([GOOD, short, unmatched], 0.5, 16)
    assert found["sparsity_reached"] == Check(
        "failed", "target 50.0 % zeros missed by fc1 31.2 %, fc2 (no int8 weights found)")
    assert found["clusters_kept"] == Check("failed", "more than 16 values per channel in fc2 (no int8 weights found)")


def test_disabled_stages_are_not_requested_and_requested_ones_that_did_nothing_fail():
    assert _statuses([GOOD], target=0.0, clusters=0) == ("not requested", "not requested")
    untouched = dataclasses.replace(GOOD, pruned=False, clustered=False)
    assert _statuses([untouched]) == ("failed", "failed")
    assert checks([untouched], 0.5, 16)["sparsity_reached"].detail == "no layer could be pruned (see the notes)"


@pytest.mark.parametrize(("layer", "weight", "keras", "tflite"), [
    ("Dense", "kernel", (64, 32), ("FULLY_CONNECTED", (32, 64))),
    ("Conv2D", "kernel", (3, 5, 4, 8), ("CONV_2D", (8, 3, 5, 4))),
    ("Conv1D", "kernel", (3, 160, 7), ("CONV_2D", (7, 1, 3, 160))),
    ("DepthwiseConv2D", "depthwise_kernel", (3, 3, 4, 2), ("DEPTHWISE_CONV_2D", (1, 3, 3, 8))),
    ("SeparableConv2D", "pointwise_kernel", (1, 1, 8, 6), ("CONV_2D", (6, 1, 1, 8))),
    ("Conv2DTranspose", "kernel", (3, 3, 5, 6), ("TRANSPOSE_CONV", (5, 3, 3, 6))),
    ("BatchNormalization", "gamma", (8,), None),
    ("Dense", "bias", (32,), None),
])
def test_int8_layout_follows_the_converter_layouts(layer, weight, keras, tflite):
    """The shapes the TF 2.21 converter wrote for these layers (checked on real conversions)."""
    found = int8_layout(layer, weight, np.zeros(keras))
    assert (found if found is None else (found[0], found[1].shape)) == tflite


def test_int8_layout_moves_values_with_the_axes():
    kernel = np.arange(2 * 3 * 4 * 5).reshape(2, 3, 4, 5)  # Conv2D (kh, kw, in, out)
    _, moved = int8_layout("Conv2D", "kernel", kernel)
    assert moved[4, 1, 2, 3] == kernel[1, 2, 3, 4]
    _, depthwise = int8_layout("DepthwiseConv2D", "depthwise_kernel", kernel)  # (kh, kw, in, mult)
    assert depthwise[0, 1, 2, 3 * 5 + 4] == kernel[1, 2, 3, 4]  # output channel = in * mult + m


def _report(sparsity_reached: Check, clusters_kept: Check, clusters: int = 16,
            preserve_sparsity: bool = True) -> CompressReport:
    return CompressReport(
        model="m.h5", source_format="keras2-h5", bridged=False, data="digits", samples={"train": 1, "test": 1},
        accuracy={"float": 0.9, "int8": 0.9}, size_bytes={"float32": 100, "int8": 50, "weights": 1_234}, arena_bytes=10,
        quantization={}, prune_schedule=None, layers=[GOOD], int8_weights=[], timing_s={"load": 0.1},
        recipe={"cluster": {"clusters": clusters, "preserve_sparsity": preserve_sparsity}},
        checks={"sparsity_reached": sparsity_reached, "clusters_kept": clusters_kept},
    )


def test_a_failed_check_is_in_the_summary_and_the_exit_status(tmp_path: Path, capsys):
    failed = Check("failed", "target 50.0 % zeros missed by fc1 31.2 %")
    kept = Check("passed", "every clustered layer (1) at <= 16 values per channel, highest fc1 16")
    result = CompressResult(tmp_path, _report(failed, kept, preserve_sparsity=False))
    with pytest.raises(CheckFailedError) as raised:
        finish(result, quiet=False, as_json=False)
    assert raised.value.exit_code == 9
    assert str(raised.value).startswith("check sparsity reached failed: target 50.0 % zeros missed by fc1 31.2 %;")
    assert "set [cluster] preserve_sparsity = true" in str(raised.value)
    summary = capsys.readouterr().out
    assert "check sparsity reached: NO (target 50.0 % zeros missed by fc1 31.2 %)" in summary
    assert "weights as stored on the device: 1,234 B" in summary
    assert "check clusters kept: yes (every clustered layer (1) at <= 16 values per channel" in summary

    with pytest.raises(CheckFailedError):
        finish(result, quiet=True, as_json=False)  # quiet hides the summary, not the failure
    with pytest.raises(CheckFailedError):
        finish(result, quiet=False, as_json=True)
    assert '"status": "failed"' in capsys.readouterr().out


def test_passed_and_not_requested_checks_exit_zero(tmp_path: Path, capsys):
    reached = Check("passed", "every pruned layer (1) at >= 50.0 % zeros, lowest conv 50.0 %")
    result = CompressResult(tmp_path, _report(reached, Check("not requested", "clustering disabled"), clusters=0))
    finish(result, quiet=False, as_json=False)
    summary = capsys.readouterr().out
    assert "check sparsity reached: yes (every pruned layer (1) at >= 50.0 % zeros, lowest conv 50.0 %)" in summary
    assert "check clusters kept: not requested\n" in summary
