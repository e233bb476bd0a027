"""Weight storage chosen by an objective (size, speed, balanced) and the decode scratch in the arena."""

from __future__ import annotations

import json
import re

import click
import numpy as np
import pytest

import keras_int8
from tinycompress.cli._common import optimize_option
from tinycompress.codegen import generate
from tinycompress.codegen.storage import (
    OBJECTIVES,
    StorageOption,
    choose_storage,
    fc_packed,
    storage_options,
)
from tinycompress.codegen.verify import random_inputs, verify_generated
from tinycompress.errors import InputError
from tinycompress.tflite import read_model

pytestmark = pytest.mark.host

# A layer's options: dense; palette half the bytes, 1.1x the instructions; sparse a third, 1.3x.
OPTIONS = [StorageOption("s8", 4_000, 100_000.0), StorageOption("palette4", 2_000, 110_000.0, 4_000),
           StorageOption("sparse8", 1_300, 130_000.0)]


@pytest.mark.parametrize(("objective", "storage"), [("size", "sparse8"), ("speed", "s8"), ("balanced", "palette4")])
def test_each_objective_picks_its_storage(objective: str, storage: str) -> None:
    choice = choose_storage(OPTIONS, objective)
    assert choice.storage == storage
    assert choice.reason.startswith(objective)
    assert choice.scratch_bytes == (4_000 if storage == "palette4" else 0)


def test_balanced_keeps_dense_when_every_packed_storage_is_slower_than_115x() -> None:
    slow = [OPTIONS[0], StorageOption("palette4", 2_000, 116_000.0), OPTIONS[2]]
    choice = choose_storage(slow, "balanced")
    assert choice.storage == "s8"
    assert "100% of s8" in choice.reason and "1.00x" in choice.reason


def test_cost_model_decodes_packed_convs_once_and_fc_per_mac() -> None:
    sizes = {"s8": 4_608, "palette4": 2_816, "sparse8": None}
    conv = {o.storage: o for o in storage_options("conv", 294_912, 4_608, sizes)}
    assert set(conv) == {"s8", "palette4"}
    assert conv["palette4"].scratch_bytes == 4_608
    assert conv["s8"].instructions < conv["palette4"].instructions < 1.15 * conv["s8"].instructions
    generic = {o.storage: o for o in storage_options("conv", 294_912, 4_608, sizes, scratch=False)}
    assert generic["palette4"].scratch_bytes == 0 and generic["palette4"].instructions > 5 * conv["s8"].instructions
    fc = storage_options("fc", 32_768, 32_768, {"s8": 32_768, "palette4": 17_408})
    assert all(o.scratch_bytes == 0 for o in fc)  # each weight is used once: nothing to decode ahead
    assert choose_storage(fc, "balanced").storage == "s8" and choose_storage(fc, "size").storage == "palette4"


def test_fc_packed_loops_cost_by_palette_kind_and_density() -> None:
    """A shared palette is within issue 9's 1.5x of dense but not balanced's 1.15x; sparse rows pay
    per nonzero; a per-channel palette or a depth the packed loops refuse takes the generic path."""
    rng = np.random.default_rng(0)
    clustered = rng.integers(-8, 8, (64, 512)).astype(np.int8) * (rng.random((64, 512)) < 0.5)
    sizes = {"s8": 32_768, "palette4": 16_400, "sparse8": 20_736}
    shared = {o.storage: o for o in storage_options("fc", 32_768, 32_768, sizes, fc_packed=fc_packed(clustered))}
    assert shared["s8"].instructions < shared["palette4"].instructions < 1.5 * shared["s8"].instructions
    assert shared["sparse8"].instructions > 2 * shared["s8"].instructions  # 50 % nonzeros
    assert choose_storage(list(shared.values()), "size").storage == "palette4"
    assert choose_storage(list(shared.values()), "balanced").storage == "s8"
    per_channel = clustered + np.arange(64, dtype=np.int8)[:, None]  # 16 values per row, more in all
    generic = {o.storage: o for o in storage_options("fc", 32_768, 32_768, sizes, fc_packed=fc_packed(per_channel))}
    assert generic["palette4"].instructions > 5 * generic["s8"].instructions
    pruned = rng.integers(1, 100, (64, 512)).astype(np.int8) * (rng.random((64, 512)) < 0.09)
    sparse = storage_options("fc", 32_768, 32_768, {"s8": 32_768, "sparse8": 8_000}, fc_packed=fc_packed(pruned))
    assert choose_storage(sparse, "balanced").storage == "sparse8"  # 9 % nonzeros
    assert fc_packed(clustered[:, :75]) is None and fc_packed(np.zeros((2, 1032), np.int8)) is None


@pytest.mark.needs_tools("gcc")
def test_packed_dense_layers_take_the_fc_packed_loops_bit_exact() -> None:
    """A shared palette (one 16-byte palette in model.c) and sparse rows, chosen by size and by
    balanced as the cost model says, through the host build's packed FC loops against TFLM."""
    tflite = keras_int8.convert_int8(keras_int8.packed_dense(), per_channel=False)
    model = read_model(tflite)
    for objective, storages in (("size", ["palette4", "sparse8"]), ("balanced", ["s8", "sparse8"])):
        gen = generate(model, optimize=objective)
        assert [layer.storage for layer in gen.layers] == storages
        result = verify_generated(tflite, gen, random_inputs((1, 128), 8))
        assert result.bit_exact and result.samples == 8
    code = generate(model, optimize="size").files["model.c"]
    assert len(re.findall(r"\.shared = 1", code)) == 1
    reason = generate(model, optimize="size").layers[0].storage_reason
    assert 1.15 < float(re.search(r"~([\d.]+)x s8 instructions", reason).group(1)) < 1.5  # not the generic path's


def test_cli_choices_are_the_objectives_and_others_are_refused() -> None:
    @click.command()
    @optimize_option
    def probe(optimize: str) -> None:
        click.echo(optimize)

    option = next(p for p in probe.params if p.name == "optimize")
    assert tuple(option.type.choices) == OBJECTIVES and option.default == "balanced"
    with pytest.raises(InputError, match="unknown storage objective 'fast'; use one of size, speed, balanced"):
        choose_storage(OPTIONS, "fast")


@pytest.fixture(scope="module")
def packed() -> bytes:
    return keras_int8.convert_int8(keras_int8.packed_cnn())


@pytest.mark.needs_tools("gcc")
@pytest.mark.parametrize("objective", OBJECTIVES)
def test_packed_model_stays_bit_exact_under_every_objective(packed: bytes, objective: str) -> None:
    """The host build (portable kernels, which decode into the scratch too) against TFLM."""
    gen = generate(read_model(packed), optimize=objective)
    result = verify_generated(packed, gen, random_inputs((1, 16, 16, 4), 6))
    assert result.bit_exact and result.samples == 6


def test_decode_scratch_is_planned_inside_the_arena(packed: bytes) -> None:
    model = read_model(packed)
    gen = generate(model, optimize="balanced")
    storage = {layer.op + str(layer.index): (layer.storage, layer.scratch_bytes) for layer in gen.layers}
    assert storage["CONV_2D2"] == ("palette4", 12 * 3 * 3 * 32)  # 3x3 clustered: decoded once per call
    assert storage["CONV_2D3"] == ("sparse8", 16 * 12)  # 1x1 pruned
    assert storage["DEPTHWISE_CONV_2D4"][0] == "s8" and storage["FULLY_CONNECTED5"] == ("s8", 0)
    code = gen.files["model.c"]
    offsets = [int(m) for m in re.findall(r"\.scratch = \(tc_model_arena \+ (\d+)\)", code)]
    assert len(offsets) == 2
    for layer, offset in zip([gen.layers[2], gen.layers[3]], offsets, strict=True):
        # inside the arena, and clear of the layer's own output (its input: the planner's liveness)
        assert offset + layer.scratch_bytes <= gen.arena_bytes
        out = (layer.output_offset, layer.output_offset + layer.output_bytes)
        assert offset + layer.scratch_bytes <= out[0] or offset >= out[1]
    # the scratches fit beside the live activations: the arena is the one without them
    assert gen.arena_bytes == generate(model, optimize="speed").arena_bytes


def test_scratch_that_would_grow_the_arena_is_refused() -> None:
    """The demo CNN's conv2 shape: its scratch would double the arena, so balanced keeps it dense
    and size keeps the palette on the generic path; neither grows the arena."""
    model = read_model(keras_int8.convert_int8(keras_int8.clustered_conv()))
    speed = generate(model, optimize="speed")
    for objective, storage in (("balanced", "s8"), ("size", "palette4")):
        gen = generate(model, optimize=objective)
        conv = gen.layers[0]
        assert (conv.storage, conv.scratch_bytes) == (storage, 0)
        assert "scratch would grow the arena" in conv.storage_reason
        assert gen.arena_bytes == speed.arena_bytes


def test_inspect_shows_each_layers_storage_and_why(packed: bytes, tmp_path) -> None:
    from click.testing import CliRunner

    from tinycompress.cli import main

    path = tmp_path / "packed.tflite"
    path.write_bytes(packed)
    result = CliRunner().invoke(main, ["inspect", str(path), "--optimize", "size"])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    fc = next(line for line in lines if line.startswith("FULLY_CONNECTED#5") and ": palette4 (" in line)
    assert "size: fewest bytes" in fc and "x s8 instructions" in fc
    conv = next(line for line in lines if line.startswith("CONV_2D#2") and ": palette4 (" in line)
    assert "decoded once per call into a 3,456 B arena scratch" in conv
    speed = CliRunner().invoke(main, ["inspect", str(path), "--optimize", "speed", "--json"])
    assert {layer["weights_storage"] for layer in json.loads(speed.stdout)["layers"]} == {"s8", "-"}


@pytest.mark.parametrize(("objective", "packed_formats"), [
    ("size", {"TC_WEIGHTS_PALETTE4", "TC_WEIGHTS_SPARSE8"}), ("speed", set())])
def test_export_optimize_sets_the_generated_storage(packed: bytes, tmp_path, objective: str,
                                                    packed_formats: set[str]) -> None:
    from click.testing import CliRunner

    from tinycompress.cli import main

    path = tmp_path / "packed.tflite"
    path.write_bytes(packed)
    out = tmp_path / "project"
    result = CliRunner().invoke(main, ["export", str(path), "-b", "qemu-netduinoplus2", "-o", str(out),
                                       "--optimize", objective, "--json"])
    assert result.exit_code == 0, result.output
    code = next(out.rglob("model.c")).read_text()
    assert set(re.findall(r"TC_WEIGHTS_(?:PALETTE4|SPARSE8)", code)) == packed_formats
    arena = int(re.search(r"ARENA_BYTES (\d+)", next(out.rglob("model.h")).read_text()).group(1))
    assert json.loads(result.stdout)["fit"]["arena_bytes"] == arena  # the scratch is in the fit check's arena


def test_run_report_page_lists_the_weight_storage() -> None:
    import copy
    from pathlib import Path

    from tinycompress.report.kinds import run_page

    report = json.loads((Path(__file__).parents[1] / "fixtures" / "demo_run_report.json").read_text())
    assert not [t for t in run_page(report).tables if t.title == "Weight storage"]  # an older report: no table
    report = copy.deepcopy(report)
    report["weights_storage"] = [{"layer": "CONV_2D#1:conv2", "storage": "palette4", "scratch_bytes": 3456,
                                  "reason": "balanced: fewest bytes within 1.15x the fastest"}]
    table = next(t for t in run_page(report).tables if t.title == "Weight storage")
    assert table.rows == [("CONV_2D#1:conv2", "palette4", "3,456 B", "balanced: fewest bytes within 1.15x the fastest")]
