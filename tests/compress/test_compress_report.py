"""The report's self-checks flag a layer that misses its target."""

from __future__ import annotations

import dataclasses

import pytest

from tinycompress.compress.report import LayerReport, checks

pytestmark = pytest.mark.host

GOOD = LayerReport(
    name="conv", type="Conv2D", params=100, pruned=True, clustered=True, pruned_weights=["kernel"],
    clustered_weights=["kernel"], sparsity=0.5, int8_sparsity=0.5, int8_size=90, max_unique_per_channel=16,
    int8_ops=[0],
)


def test_checks_pass_and_fail_per_layer():
    assert checks([GOOD], 0.5, 16) == {"sparsity_reached": True, "clusters_kept": True}
    one_short = dataclasses.replace(GOOD, int8_sparsity=44 / 90)
    assert checks([one_short], 0.5, 16)["sparsity_reached"]  # one weight of rounding
    assert not checks([dataclasses.replace(GOOD, int8_sparsity=0.4)], 0.5, 16)["sparsity_reached"]
    assert not checks([dataclasses.replace(GOOD, max_unique_per_channel=17)], 0.5, 16)["clusters_kept"]
    assert not checks([dataclasses.replace(GOOD, int8_sparsity=None)], 0.5, 16)["sparsity_reached"]
    untouched = dataclasses.replace(GOOD, pruned=False, clustered=False, int8_sparsity=0.0, max_unique_per_channel=200)
    assert checks([untouched], 0.5, 16) == {"sparsity_reached": True, "clusters_kept": True}
