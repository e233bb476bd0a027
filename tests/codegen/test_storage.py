"""Weight storage chosen by an objective (size, speed, balanced) and the decode scratch in the arena."""

from __future__ import annotations

import json
import re
from collections.abc import Callable

import click
import numpy as np
import pytest

import keras_int8
from tinycompress.cli._common import optimize_option
from tinycompress.codegen import generate
from tinycompress.codegen import packing
from tinycompress.codegen.storage import (
    OBJECTIVES,
    StorageOption,
    choose_storage,
    fc_blocks,
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


def _blocked(rng: np.random.Generator, units: int, depth: int, block: int, keep: float) -> np.ndarray:
    """int8 ``[units, depth]`` weights with runs of ``block`` row elements zeroed, ``keep`` of them kept."""
    mask = np.repeat(rng.random((units, depth // block)) < keep, block, axis=1)
    return (rng.integers(-127, 128, (units, depth)) * mask).astype(np.int8)


def _unpack_kept_blocks(packed: packing.Block8 | packing.Block4, units: int, depth: int, stored: np.ndarray,
                        per_block: int, decode: Callable[[np.ndarray], np.ndarray]) -> np.ndarray:
    """The dense weights of kept blocks, read back as tc_runtime.h lays them out: a row's bitmap bits
    pick its blocks, each of ``per_block`` items of ``stored`` (from the row's channel_start) that
    ``decode`` turns into the block's weights."""
    bitmap, per_row = np.frombuffer(packed.bitmap, np.uint8), (depth // packed.block + 7) // 8
    assert bitmap.size == units * per_row
    dense = np.zeros((units, depth), np.int8)
    offset = 0
    for c in range(units):
        assert offset == packed.channel_start[c]
        for k in range(depth // packed.block):
            if bitmap[c * per_row + k // 8] >> (k % 8) & 1:  # LSB first, each row from a byte
                dense[c, k * packed.block:(k + 1) * packed.block] = decode(stored[offset:offset + per_block])
                offset += per_block
    assert offset == stored.size
    return dense


def _unpack_block8(packed: packing.Block8, units: int, depth: int) -> np.ndarray:
    """The dense weights of TC_WEIGHTS_BLOCK8: each kept block's int8 values as they are."""
    return _unpack_kept_blocks(packed, units, depth, packed.values, packed.block, lambda values: values)


def _round_trip(weights: np.ndarray, block: int, last: int,
                pack: Callable[[np.ndarray, int], packing.Block8 | packing.Block4 | None],
                unpack: Callable[..., np.ndarray]) -> tuple[packing.Block8 | packing.Block4, int]:
    """Packs ``weights`` with its first row all dropped and a last kept block of zeros ending in
    ``last``, checks that ``unpack`` reads the same tensor back and that ``kept_blocks`` counts
    the kept blocks; returns the packing and that count."""
    units, depth = weights.shape
    weights[0] = 0  # a row with every block dropped
    weights[-1, :block] = [0] * (block - 1) + [last]  # a kept block may hold zeros
    packed = pack(weights, block)
    assert packed is not None and packed.block == block
    assert np.array_equal(unpack(packed, units, depth), weights)
    kept = int(np.any(weights.reshape(units, -1, block), axis=2).sum())
    assert packed.kept_blocks == kept and packed.channel_start.dtype == np.uint32
    return packed, kept


@pytest.mark.parametrize(("units", "depth", "block"), [(32, 512, 16), (7, 40, 8), (5, 12, 4), (3, 72, 4)])
def test_block8_packing_round_trips_in_the_header_layout(units: int, depth: int, block: int) -> None:
    rng = np.random.default_rng(units)
    weights = _blocked(rng, units, depth, block, 0.5)
    packed, kept = _round_trip(weights, block, 5, packing.pack_block8, _unpack_block8)
    assert packed.values.dtype == np.int8
    assert packed.nbytes == units * ((depth // block + 7) // 8) + kept * block + 4 * units
    assert packed.channel_start[0] == packed.channel_start[1] == 0
    assert packing.pack_block8(weights[:, :-2], block) is None  # the row must be whole blocks


def test_block8_takes_the_largest_block_within_3_percent_of_the_fewest_bytes() -> None:
    rng = np.random.default_rng(1)
    blocked16 = _blocked(rng, 32, 512, 16, 0.5)
    assert packing.best_block8(blocked16).block == 16  # blocks of 8 and 4 save only bitmap bytes
    blocked4 = _blocked(rng, 32, 512, 4, 0.5)
    assert packing.best_block8(blocked4).block == 4  # blocks of 16 would keep ~94 % of the weights
    assert packing.best_block8(_blocked(rng, 6, 36, 4, 0.5)).block == 4  # 36: not a multiple of 8
    dense = rng.integers(1, 100, (8, 64)).astype(np.int8)
    assert packing.best_block8(dense) is None  # every block kept: more bytes than s8
    assert packing.best_block8(dense[:, :30]) is None  # no block size divides the row


def test_block_pruned_fc_is_block8_under_balanced_and_size_but_not_unstructured() -> None:
    """A 50 %-block-pruned FC is both smaller and faster than dense (balanced takes it); 50 %
    unstructured zeros leave blocks of 4 that save only a few bytes and no instructions."""
    rng = np.random.default_rng(2)
    blocked = _blocked(rng, 32, 512, 16, 0.5)
    sizes = {"s8": blocked.size, "sparse8": packing.pack_sparse8(blocked).nbytes,
             "block8": packing.best_block8(blocked).nbytes}
    options = {o.storage: o for o in storage_options("fc", 16_384, 16_384, sizes, fc_packed=fc_packed(blocked),
                                                     fc_blocks=fc_blocks(blocked))}
    assert options["block8"].instructions < 0.8 * options["s8"].instructions < options["sparse8"].instructions
    assert options["block8"].flash_bytes < options["sparse8"].flash_bytes < options["s8"].flash_bytes
    for objective in OBJECTIVES:
        choice = choose_storage(list(options.values()), objective)
        assert choice.storage == "block8" and choice.scratch_bytes == 0
    assert choose_storage(list(options.values()), "balanced").reason.endswith(
        f"blocks of 16, {packing.best_block8(blocked).kept_blocks:,} of 1,024 kept")
    scattered = (rng.integers(-127, 128, (32, 512)) * (rng.random((32, 512)) < 0.5)).astype(np.int8)
    blocks = fc_blocks(scattered)
    sizes = {"s8": scattered.size, "sparse8": packing.pack_sparse8(scattered).nbytes,
             "block8": packing.best_block8(scattered).nbytes}
    options = {o.storage: o for o in storage_options("fc", 16_384, 16_384, sizes, fc_packed=fc_packed(scattered),
                                                     fc_blocks=blocks)}
    assert blocks.block == 4 and options["block8"].instructions > options["s8"].instructions
    assert choose_storage(list(options.values()), "size").storage == "sparse8"
    assert choose_storage(list(options.values()), "speed").storage == "s8"
    assert storage_options("conv", 16_384, 16_384, sizes) == storage_options(
        "conv", 16_384, 16_384, {k: v for k, v in sizes.items() if k != "block8"})  # FC only


# (input shape, units, block, dropped unit): blocks of 16 / 8 / 4 chosen by the packer (a depth of 40
# takes no blocks of 16, one of 12 none of 8), output depths not a multiple of 4, a row with every
# block dropped, two batches, and a depth past the fast loops' 1,024 (the generic path).
BLOCK8_CASES = {
    "b16": ((512,), (32,), 16, False),
    "b8_tail": ((40,), (7,), 8, True),
    "b4_rows": ((12,), (5,), 4, True),
    "batch2": ((2, 48), (6,), 16, False),
    "deep": ((1_040,), (3,), 16, False),
}


@pytest.mark.needs_tools("gcc")
@pytest.mark.parametrize("name", sorted(BLOCK8_CASES))
def test_block_pruned_dense_is_block8_and_bit_exact_with_tflm(name: str) -> None:
    """Block-pruned Dense layers (keras_int8.block_dense), through the real converter, stored as kept
    blocks (size) and run by the host build's FULLY_CONNECTED, give TFLM's bytes."""
    shape, units, block, dropped = BLOCK8_CASES[name]
    seed = sorted(BLOCK8_CASES).index(name)
    tflite = keras_int8.convert_int8(keras_int8.block_dense(shape, units, block, seed=seed, dropped_unit=dropped))
    model = read_model(tflite)
    gen = generate(model, optimize="size")
    assert [layer.storage for layer in gen.layers] == ["block8"]
    assert f"blocks of {block}," in gen.layers[0].storage_reason
    code = gen.files["model.c"]
    assert "TC_WEIGHTS_BLOCK8" in code and f".block = {block}," in code
    result = verify_generated(tflite, gen, random_inputs(shape, 8, seed))
    assert result.bit_exact and result.samples == 8


def _clustered_blocked(rng: np.random.Generator, units: int, depth: int, block: int, keep: float) -> np.ndarray:
    """``_blocked`` weights on 15 nonzero values shared by the whole tensor (plus 0): a clustered,
    block-pruned Dense quantised per tensor."""
    values = np.array([-127, -90, -64, -45, -32, -16, -8, 8, 16, 32, 45, 64, 90, 110, 127])
    mask = np.repeat(rng.random((units, depth // block)) < keep, block, axis=1)
    return (values[rng.integers(0, 15, (units, depth))] * mask).astype(np.int8)


def _unpack_block4(packed: packing.Block4, units: int, depth: int) -> np.ndarray:
    """The dense weights, read back from the packed arrays as tc_runtime.h lays out TC_WEIGHTS_BLOCK4."""
    assert packed.palette.shape == (16,) and packed.palette.dtype == np.int8
    return _unpack_kept_blocks(  # channel_start in bytes of indices; element 2j low nibble, 2j + 1 high
        packed, units, depth, np.frombuffer(packed.indices, np.uint8), packed.block // 2,
        lambda two: np.stack([packed.palette[two & 0xF], packed.palette[two >> 4]], axis=1).ravel())


@pytest.mark.parametrize(("units", "depth", "block"), [(32, 512, 16), (7, 40, 8), (5, 12, 4), (3, 72, 2)])
def test_block4_packing_round_trips_in_the_header_layout(units: int, depth: int, block: int) -> None:
    rng = np.random.default_rng(units)
    weights = _clustered_blocked(rng, units, depth, block, 0.5)
    packed, kept = _round_trip(weights, block, 8, packing.pack_block4, _unpack_block4)
    assert packed.nbytes == units * ((depth // block + 7) // 8) + kept * block // 2 + 4 * units + 16
    assert packed.bitmap == packing.pack_block8(weights, block).bitmap  # BLOCK8's bitmap, bit for bit
    assert packing.pack_block4(weights[:, :-1], block) is None  # the row must be whole blocks
    rows = weights[:, :depth // 6 * 6]  # whole blocks of 3
    assert packing.pack_block8(rows, 3) is not None and packing.pack_block4(rows, 3) is None  # odd: half bytes
    weights.flat[:17] = np.arange(1, 18)  # 17 values: no shared 16-entry palette
    assert packing.pack_block4(weights, block) is None


def _all_fc_options(weights: np.ndarray, runtime_arch: str = "cortex-m-dsp") -> dict[str, StorageOption]:
    """Every storage of a FULLY_CONNECTED layer (one batch), as codegen offers them."""
    palette, block8, block4 = (packing.pack_palette4(weights, 0), packing.best_block8(weights),
                               packing.best_block4(weights))
    sizes = {"s8": weights.size, "palette4": None if palette is None else palette.nbytes,
             "sparse8": packing.pack_sparse8(weights).nbytes, "block8": None if block8 is None else block8.nbytes,
             "block4": None if block4 is None else block4.nbytes}
    return {o.storage: o for o in storage_options(
        "fc", weights.size, weights.size, sizes, fc_packed=fc_packed(weights), fc_blocks=fc_blocks(weights),
        fc_blocks4=fc_blocks(weights, indices=True), runtime_arch=runtime_arch)}


def test_block_pruned_clustered_fc_takes_4bit_kept_blocks_and_unclustered_stays_block8() -> None:
    """The demo's fc1 (512 -> 64) at 50 % kept blocks of 16 on 15 shared values: block4 is about half
    block8's bytes, the fewest of all, and costs block8 plus the 4-bit decode of the kept weights;
    the same layer unclustered has no block4."""
    rng = np.random.default_rng(6)
    clustered = _clustered_blocked(rng, 64, 512, 16, 0.5)
    options = _all_fc_options(clustered)
    assert set(options) == {"s8", "palette4", "sparse8", "block8", "block4"}
    sizes = {name: option.flash_bytes for name, option in options.items()}
    assert sizes["block4"] < sizes["palette4"] < sizes["block8"] < sizes["sparse8"] < sizes["s8"]
    rows = 64 * 4 + 64 * 4  # bitmap (32 blocks a row) and row starts, as block8's
    assert sizes["block4"] == (sizes["block8"] - rows) // 2 + rows + 16  # half the kept bytes, plus the palette
    cost = {name: option.instructions for name, option in options.items()}
    assert cost["block8"] < cost["s8"] < cost["palette4"] and cost["block4"] < cost["palette4"]
    assert fc_blocks(clustered, indices=True).block == 16
    picks = {objective: choose_storage(list(options.values()), objective) for objective in OBJECTIVES}
    assert picks["size"].storage == "block4" and picks["speed"].storage == "block8"
    assert picks["size"].reason.endswith(f"blocks of 16, {packing.best_block4(clustered).kept_blocks:,} of 2,048 kept")
    # The 4-bit decode costs 1.35x / 1.19x / 1.17x block8 on the M4 / M55 / RV32
    # (fc_512to32_block4), past balanced's 1.15x of the fastest: balanced keeps block8 on every core.
    assert 1.15 * cost["block8"] < cost["block4"] < 1.1 * cost["s8"]
    assert picks["balanced"].storage == "block8"
    for arch in ("helium", "portable"):
        options = _all_fc_options(clustered, arch)
        assert choose_storage(list(options.values()), "size", arch).storage == "block4", arch
        assert choose_storage(list(options.values()), "balanced", arch).storage == "block8", arch
    plain = _blocked(rng, 64, 512, 16, 0.5)
    assert packing.best_block4(plain) is None and fc_blocks(plain, indices=True) is None
    options = _all_fc_options(plain)
    assert "block4" not in options
    assert {choose_storage(list(options.values()), objective).storage for objective in OBJECTIVES} == {"block8"}


# (input shape, units, block, dropped unit): as BLOCK8_CASES, clustered (kept weights on 15 values
# shared by the tensor, quantised per tensor): blocks of 16 / 8 / 4 chosen by the packer (a depth of 36
# takes none of 8), output depths not a multiple of 4, a row with every block dropped, two batches, a
# depth past the fast loops' 1,024.
BLOCK4_CASES = {
    "b16": ((512,), (32,), 16, False),
    "b8_tail": ((40,), (7,), 8, True),
    "b4_rows": ((36,), (9,), 4, True),
    "batch2": ((2, 48), (6,), 16, False),
    "deep": ((1_040,), (3,), 16, False),
}


@pytest.mark.needs_tools("gcc")
@pytest.mark.parametrize("name", sorted(BLOCK4_CASES))
def test_block_pruned_clustered_dense_is_block4_and_bit_exact_with_tflm(name: str) -> None:
    """Block-pruned and clustered Dense layers quantised per tensor, stored as kept blocks of 4-bit
    indices (size) and run by the host build's FULLY_CONNECTED, give TFLM's bytes; the instruction
    estimate scales the layer by the ratio its reason gives."""
    from tinycompress.codegen.costmodel import packed_ratio

    shape, units, block, dropped = BLOCK4_CASES[name]
    seed = sorted(BLOCK4_CASES).index(name)
    keras = keras_int8.block_dense(shape, units, block, seed=seed, dropped_unit=dropped, clustered=True)
    tflite = keras_int8.convert_int8(keras, per_channel=False)
    model = read_model(tflite)
    gen = generate(model, optimize="size")
    assert [layer.storage for layer in gen.layers] == ["block4"]
    assert f"blocks of {block}," in gen.layers[0].storage_reason
    code = gen.files["model.c"]
    assert "TC_WEIGHTS_BLOCK4" in code and "tc_block4_t" in code and f".block = {block}," in code
    assert gen.weight_formats == 0x11  # dense int8 and TC_FORMAT_BLOCK4
    priced = float(re.search(r"~([\d.]+)x s8 instructions", gen.layers[0].storage_reason).group(1))
    assert packed_ratio(model, gen.layers[0]) == pytest.approx(priced, abs=0.006)
    result = verify_generated(tflite, gen, random_inputs(shape, 8, seed))
    assert result.bit_exact and result.samples == 8


def test_every_storage_has_its_runtime_format_bit() -> None:
    """Each storage's bit is its TC_FORMAT_* of tc_runtime.h, together TC_FORMAT_ALL, and a project
    given no generated model's mask (ModelSources' default) compiles every format in."""
    from tinycompress.codegen.emit import WEIGHT_FORMAT_BITS
    from tinycompress.project.model import ModelSources
    from tinycompress.resources import runtime_dir

    header = (runtime_dir() / "include" / "tc_runtime.h").read_text()
    for storage, bit in WEIGHT_FORMAT_BITS.items():
        assert f"#define TC_FORMAT_{storage.upper()} (1u << {bit.bit_length() - 1})" in header
    every = int(re.search(r"#define TC_FORMAT_ALL (0x[0-9A-F]+)u", header).group(1), 16)
    assert sum(WEIGHT_FORMAT_BITS.values()) == every == 0x1F
    assert ModelSources.__dataclass_fields__["weight_formats"].default == every


def _fc_options(weights: np.ndarray, runtime_arch: str) -> list[StorageOption]:
    """A FULLY_CONNECTED layer's options (one batch) costed for the ``runtime_arch`` kernels."""
    packed = packing.best_block8(weights)
    sizes = {"s8": weights.size, "sparse8": packing.pack_sparse8(weights).nbytes,
             "block8": None if packed is None else packed.nbytes}
    return storage_options("fc", weights.size, weights.size, sizes, fc_packed=fc_packed(weights),
                           fc_blocks=fc_blocks(weights), runtime_arch=runtime_arch)


# The same weights, balanced's pick per kernel chain (benchmarks/arch_kernels.py, FC 512 -> 32): sparse rows
# at 12.5 % nonzeros run 0.93x dense on the M4's DSP loop but 4.6x on the M55 (whose dense FC is 5x
# faster) and 0.68x in portable C; blocks of 8 at 50 % kept 0.89x / 1.43x / 0.96x.
@pytest.mark.parametrize(("weights", "picks"), [
    ("sparse_12pct", {"cortex-m-dsp": "sparse8", "helium": "s8", "portable": "sparse8"}),
    ("blocks_of_8", {"cortex-m-dsp": "block8", "helium": "s8", "portable": "block8"})])
def test_balanced_ranks_storage_with_the_target_cores_kernel_costs(weights: str, picks: dict[str, str]) -> None:
    rng = np.random.default_rng(3)
    if weights == "sparse_12pct":
        w = (rng.integers(1, 128, (32, 512)) * (rng.random((32, 512)) < 0.125)).astype(np.int8)
    else:
        w = _blocked(rng, 32, 512, 8, 0.5)
        assert fc_blocks(w).block == 8
    for arch, storage in picks.items():
        options = _fc_options(w, arch)
        choice = choose_storage(options, "balanced", arch)
        assert choice.storage == storage, arch
        prefix = "balanced:" if arch == "cortex-m-dsp" else f"balanced ({arch}):"  # names a core not the default
        assert choice.reason.startswith(prefix)
        assert choose_storage(options, "size", arch).storage != "s8"  # size still packs on every core
    assert _fc_options(w, "cortex-m-dsp") == storage_options(  # the default chain is the M4's, as before
        "fc", w.size, w.size, {"s8": w.size, "sparse8": packing.pack_sparse8(w).nbytes,
                               "block8": None if packing.best_block8(w) is None else packing.best_block8(w).nbytes},
        fc_packed=fc_packed(w), fc_blocks=fc_blocks(w))


def test_helium_costs_a_shared_palette_by_the_loop_its_depth_takes() -> None:
    """The M55's vector palette loop takes depths that are multiples of 32; other multiples of 8 run
    the DSP loop, as on the M4, against a dense kernel five times faster."""
    rng = np.random.default_rng(4)
    ratios = {}
    for depth in (512, 200):
        w = rng.integers(-8, 8, (32, depth)).astype(np.int8)
        options = {o.storage: o.instructions for o in storage_options(
            "fc", w.size, w.size, {"s8": w.size, "palette4": w.size // 2}, fc_packed=fc_packed(w),
            runtime_arch="helium")}
        ratios[depth] = options["palette4"] / options["s8"]
    assert 1.2 < ratios[512] < 1.5 and ratios[200] > 4  # measured 1.37x; 200 -> 30: 5.1x


def test_unknown_kernel_chain_is_refused_naming_the_known_ones() -> None:
    with pytest.raises(InputError, match="no storage cost model for the 'avx' kernels; use one of "
                                         "cortex-m-dsp, helium, portable"):
        storage_options("fc", 64, 64, {"s8": 64}, runtime_arch="avx")


@pytest.fixture(scope="module")
def blocks_of_8(tmp_path_factory: pytest.TempPathFactory):
    """A Dense 512 -> 32 pruned in blocks of 8, half of them kept, as an int8 .tflite file."""
    path = tmp_path_factory.mktemp("b8") / "b8.tflite"
    path.write_bytes(keras_int8.convert_int8(keras_int8.block_dense((512,), (32,), 8, seed=5)))
    return path


def test_export_and_run_rank_storage_for_the_boards_core(blocks_of_8) -> None:
    """export and run compile through model_sources_from_tflite with the board's runtime_arch, and run's
    compress estimate through device_figures: a Cortex-M55 board keeps the blocks of 8 dense under
    balanced (1.43x there), a Cortex-M4 board stores them as kept blocks; each estimate scales the
    layer by its own core's packed/dense ratio."""
    from tinycompress.codegen.costmodel import estimate_layer, load_cost_model, packed_ratio
    from tinycompress.compress.report import device_figures
    from tinycompress.project.boards import get_board
    from tinycompress.project.model import model_sources_from_tflite

    picks = {"qemu-netduinoplus2": ("cortex-m-dsp", "block8"), "qemu-mps3-an547": ("helium", "s8")}
    for board, (arch, storage) in picks.items():
        assert get_board(board).runtime_arch == arch
        sources = model_sources_from_tflite(blocks_of_8, runtime_arch=get_board(board).runtime_arch)
        (layer,) = sources.weights_storage
        assert layer["storage"] == storage, board
        assert layer["reason"].startswith("balanced:" if arch == "cortex-m-dsp" else f"balanced ({arch}):")
        figures = device_figures(blocks_of_8.read_bytes(), "balanced", arch)
        assert figures.costs["weights_storage"] == {storage: 1}
        assert figures.estimate["runtime_arch"] == arch and figures.estimate["layers"][0]["storage"] == storage
    model = read_model(blocks_of_8.read_bytes())
    (info,) = generate(model).layers
    assert info.storage == "block8"
    assert packed_ratio(model, info) < 1 < 1.3 < packed_ratio(model, info, "helium")
    dense = estimate_layer(model, generate(model, runtime_arch="helium").layers[0], load_cost_model("helium"))
    packed = estimate_layer(model, info, load_cost_model("helium"))
    assert packed.instructions == pytest.approx(dense.instructions * packed_ratio(model, info, "helium"))
