"""One op, one place: each node is validated and built by a single ``prepare`` per generation,
and fused activations come from one table (issue 12, item 8)."""

from __future__ import annotations

import collections
import dataclasses

import pytest

import keras_int8
from tinycompress.codegen import generate, layers
from tinycompress.codegen.ops import OPS, prepare
from tinycompress.codegen.quantization import FUSED_ACTIVATIONS, activation_range
from tinycompress.errors import UnsupportedError
from tinycompress.tflite import read_model
from tinycompress.tflite.schema import ACTIVATIONS

pytestmark = pytest.mark.host


@pytest.fixture(scope="module")
def small() -> bytes:
    return keras_int8.convert_int8(keras_int8.small_cnn(), samples=8)


def test_generate_examines_each_node_once(small: bytes, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every per-op look at a node goes through a Ctx: one per node means one validation."""
    model = read_model(small)
    seen: collections.Counter[int] = collections.Counter()
    init = layers.Ctx.__init__

    def counting(self: layers.Ctx, model: object, op: object, *args: object, **kwargs: object) -> None:
        seen[op.index] += 1  # type: ignore[attr-defined]
        init(self, model, op, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(layers.Ctx, "__init__", counting)
    generated = generate(model)
    assert generated.layers, "nothing was generated"
    assert seen == {op.index: 1 for op in model.operators}


def test_prepare_carries_what_the_emitter_and_planner_need(small: bytes) -> None:
    """MACs and overlap gaps come out of the same pass as the parameters."""
    model = read_model(small)
    conv = next(op for op in model.operators if op.op == "CONV_2D")
    layer = prepare(model, conv)
    assert layer is not None
    w = model.tensors[conv.inputs[1]]
    out = model.tensors[conv.outputs[0]]
    assert layer.macs == out.size * w.shape[1] * w.shape[2] * w.shape[3]
    assert set(layer.gaps) == {0} and layer.gaps[0] >= 0
    views = [op for op in model.operators if OPS[op.op].kernel is None]
    assert views and all(prepare(model, op) is None for op in views)


@pytest.mark.parametrize("code", range(len(ACTIVATIONS) + 1))
def test_fused_activations_come_from_one_table(small: bytes, code: int) -> None:
    """A conv accepts exactly the table's activations, with the table's clamp; the op table's
    constraints name the same list."""
    model = read_model(small)
    conv = next(op for op in model.operators if op.op == "CONV_2D")
    fused = dataclasses.replace(conv, options={**conv.options, "activation": code})
    ops = tuple(fused if op.index == conv.index else op for op in model.operators)
    changed = dataclasses.replace(model, operators=ops)
    name = ACTIVATIONS[code] if code < len(ACTIVATIONS) else str(code)
    if name not in FUSED_ACTIVATIONS:
        with pytest.raises(UnsupportedError, match=f"fused activation {name} .supported: NONE, RELU, RELU6, "
                                                   "RELU_N1_TO_1"):
            prepare(changed, fused)
        return
    layer = prepare(changed, fused)
    assert layer is not None
    out = model.tensors[conv.outputs[0]]
    q = out.quant
    assert q is not None
    assert (layer.params["act_min"], layer.params["act_max"]) == activation_range(name, q.scale[0],
                                                                                  q.zero_point[0])
    assert f"fused {'/'.join(FUSED_ACTIVATIONS)}" in OPS["CONV_2D"].constraints
