"""Choosing how a layer's weights are stored: by flash size, by speed, or balanced.

Every weighted layer can keep dense int8 weights; a clustered one (at most 16
values per output channel) can also take 4-bit palette indices, and a pruned
FULLY_CONNECTED or 1x1 CONV_2D a bitmap plus its nonzeros. The smallest is
not always worth it: packed weights read through the generic path cost 5-10x
the instructions of the dense DSP kernels. FULLY_CONNECTED uses each weight
once per inference, so its kernels read two packed forms directly
(``fc_packed``): a palette shared by all rows (a clustered Dense quantised
per tensor) through a table built once per call, at ~1.2x the dense kernel
(more on layers of a few thousand MACs, where the table's ~1,600
instructions per call weigh), and sparse rows at a cost that follows the
nonzeros (the 1.15x of ``balanced`` holds up to ~16 % of them). A
block-pruned Dense (``[prune] block``) also takes kept blocks (``block8``,
``packing.best_block8``): only the blocks holding a nonzero are stored, and
the kernels skip the others and run their dense SIMD loop on each kept one,
so at 50 % kept blocks of 16 the layer is both smaller and faster than dense
(``KernelCosts.fc_block``: per kept weight, per kept block, per run of kept
blocks, per row). Clustered as well (at most 16 values in the tensor, which a
clustered Dense quantised per tensor has), its kept blocks can be 4-bit
indices into one shared palette (``block4``, ``packing.best_block4``): about
half block8's bytes, for the 4-bit decode of the kept weights
(``KernelCosts.fc_block4``: 1.17-1.29x block8 at 50 % kept blocks of 16, so
``size`` takes it and ``balanced`` keeps block8). CONV_2D
reuses each weight at every output pixel, so a packed CONV_2D gets a
*decode scratch* instead: an arena region (planned like an activation,
alive during that layer only) where the kernel decodes the dense tensor
once per call and then runs the dense loops; the cost is a few
instructions per weight, once. The generator
keeps a scratch only where it fits beside the layer's live activations
without growing the arena (``emit.generate``), and otherwise chooses again
without one.

The objective picks among the options with a per-op cost model
(instructions per MAC, and per decoded weight) measured with the arch
checker ``firmware/runtime/tests/tc_arch_check.c`` under QEMU ``-icount``
for each kernel chain (``KERNEL_COSTS``, keyed by a board's
``runtime_arch``): the cores differ most on packed FULLY_CONNECTED layers
(sparse rows at 12.5 % nonzeros: 0.93x the dense kernel on the Cortex-M4,
4.6x on the Cortex-M55, whose dense loop is five times faster; blocks of 8
at 50 % kept: 0.89x, 1.43x), so a layer is ranked for the core that runs it
(the M4's ``cortex-m-dsp`` when no board is known). It ranks options of one
layer, it does not predict latency:

* ``size``: the fewest flash bytes;
* ``speed``: the fewest instructions (ties: fewer bytes);
* ``balanced`` (default): the fewest bytes among options within 1.15x of the
  fastest, the bound issue 9 sets for a packed layer against its dense twin.

Usage::

    options = storage_options("conv", macs=294_912, elements=4_608,
                              sizes={"s8": 4_608, "palette4": 2_816, "sparse8": None})
    choose_storage(options, "balanced").storage  # "palette4", decoded into a 4,608 B scratch
    options = storage_options("fc", macs=32_768, elements=32_768,
                              sizes={"s8": 32_768, "palette4": 16_400, "sparse8": 20_736},
                              fc_packed=fc_packed(weights))  # int8 [64, 512], 16 values, half zeros
    choose_storage(options, "size").storage  # "palette4", ~1.2x the dense instructions
    options = storage_options("fc", macs=32_768, elements=32_768,
                              sizes={"s8": 32_768, "block8": packing.best_block8(pruned).nbytes},
                              fc_blocks=fc_blocks(pruned))  # int8 [64, 512], half its blocks of 16 zero
    choose_storage(options, "balanced").storage  # "block8": ~17,000 B, ~0.75x the dense instructions
    options = storage_options(..., sizes={..., "block4": packing.best_block4(clustered).nbytes},
                              fc_blocks4=fc_blocks(clustered, indices=True))  # the same, on 16 values
    choose_storage(options, "size").storage  # "block4": ~8,700 B
    options = storage_options(..., runtime_arch="helium")  # costed for a Cortex-M55 board's kernels
    choose_storage(options, "balanced", runtime_arch="helium").reason  # "balanced (helium): ..."
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from tinycompress.codegen import packing
from tinycompress.errors import InputError

OBJECTIVES = ("size", "speed", "balanced")
DEFAULT_OBJECTIVE = "balanced"
BALANCED_SLACK = 1.15  # issue 9: a packed conv may cost at most 1.15x its dense kernel

DEFAULT_ARCH = "cortex-m-dsp"  # the kernel chain ranked for when no board is known (qemu-netduinoplus2's)
FC_PACKED_DEPTH_STEP = 8
FC_PACKED_MAX_DEPTH = 1024


@dataclass(frozen=True)
class KernelCosts:
    """One kernel chain's cost terms, in instructions (see KERNEL_COSTS for their sources)."""

    per_mac: dict[str, dict[str, float]]  # kind -> storage -> per dense MAC (packed: the generic path)
    decode_per_weight: dict[str, float]  # packed storage -> per weight decoded into a conv's scratch
    fc_palette_per_mac: float  # FULLY_CONNECTED, one shared palette: per MAC,
    fc_palette_per_call: float  # per call (its table, the widened input),
    fc_palette_per_output: float  # per output element
    fc_sparse_per_weight: float  # FULLY_CONNECTED, sparse rows: per weight of the dense tensor,
    fc_sparse_per_nonzero: float  # per nonzero
    fc_block: tuple[float, float, float, float, float, float]  # kept blocks: per kept weight, kept block,
    # run of kept blocks in a row, row, block of the bitmap (kept or not), call
    fc_block_generic: tuple[float, float]  # kept blocks on the generic path: per kept weight, kept block
    fc_block4: tuple[float, float, float, float, float, float]  # kept blocks of 4-bit indices (block4), as fc_block
    fc_block4_generic: tuple[float, float]  # and on the generic path, as fc_block_generic
    fc_palette_depth_step: int = FC_PACKED_DEPTH_STEP  # the shared-palette loop's depths: multiples of it,
    fc_palette_fallback: str | None = None  # the chain whose loop runs the other multiples of 8
    fc_block_max_depth: int | None = FC_PACKED_MAX_DEPTH  # deeper rows take the generic path (None: none)


# The Cortex-M4 DSP build (cortex-m-dsp), from tc_arch_check.c on qemu-netduinoplus2:
# * per MAC: conv_demo_3x3_16to32 / pw_dscnn_64to64 (dense: 1.54 / 1.42), the demo CNN's palette
#   conv2 through the generic path (10.6), pw_sparse8_16to12 (18.9, the same tc_sparse8_dot as
#   FULLY_CONNECTED's generic path), dw_3x3_32ch (5.2), dw_3x3_palette4 (33), the demo CNN's fc1
#   (512 -> 64) dense (1.49) and per-channel palette on the generic path (9.2);
# * decode per weight into a scratch (tc_weights_decode): the twins
#   conv_demo_3x3_16to32_palette4_scratch (6.7) and pw_dscnn_64to64_sparse8_scratch (11.2);
# * FULLY_CONNECTED's packed loops (arch/cortex-m-dsp/tc_fc_packed_dsp.h) take input depths that
#   are a multiple of FC_PACKED_DEPTH_STEP up to FC_PACKED_MAX_DEPTH (TC_FC_PACKED_MAX). From the
#   twins fc_512to32 (dense: 1.55 per MAC), fc_512to32_palette4_shared (31,271 instructions for
#   16,384 MACs) and the demo CNN's fc1 / fc2 (58,616 for 32,768 / 3,475 for 640): 1.75 per MAC
#   plus ~1,600 per call for the palette table and the widened input; fc_512to32_sparse8 at 50 /
#   25 / 12.5 % nonzeros (66,354 / 37,836 / 23,584 for 16,384 weights): 0.57 per weight + 6.96
#   per nonzero;
# * kept blocks (TC_WEIGHTS_BLOCK8, tc_fc_block16_asm and siblings): a dropped block costs next
#   to nothing, each run of consecutive kept blocks in a row is found with CLZ and run as one
#   dense SXTB16/SMLAD loop. Fitted (within ~4 % of each ratio to the dense twin) on the twins
#   fc_512to32_block8* (blocks of 16 / 8 / 4 at 50 % kept: 0.72x / 0.89x / 1.31x dense; blocks
#   of 16 at 25 % / all kept: 0.48x / 1.08x; blocks of 4 all kept: 1.30x) and on the demo CNN's
#   fc1 (512 -> 64, blocks of 16, 50 %: 0.68x) and fc2 (64 -> 10: 1.11x): per kept weight, per
#   kept block, per run, and per row beyond the dense kernel's (the bitmap walk). Depths past
#   FC_PACKED_MAX_DEPTH take the generic tc_weights_dot (2.5x / 3.0x / 4.0x dense at 50 % kept
#   blocks of 16 / 8 / 4).
# The other chains come from ``benchmarks/arch_kernels.py --json --targets cortex-m55-helium`` /
# ``rv32imc-portable`` (the same checker on qemu-mps3-an547 / RISC-V virt): their dense per-MAC
# figures, decodes and FULLY_CONNECTED packed loops are measured on the same layers as above
# (fits exact on the three palette and three sparse points; kept blocks fitted on the 512 -> 32
# twins plus the checker's 640 -> 24, 64 -> 70, 200 -> 30, 176 -> 13 and two-batch cases, where
# a per-call term and one per bitmap block appear); their generic paths (the same C as the M4's)
# are the M4 figure times that core's count over the M4's on the checker layer named.
# Kept blocks of 4-bit indices (TC_WEIGHTS_BLOCK4; fc_block4, the terms of fc_block), on each chain
# fitted on the checker's fc_512to32_block4* twins (blocks of 16 / 8 / 4 at 50 % kept, blocks of 16
# and 4 at 25 % and all kept) and its 640 -> 24, 200 -> 30, 176 -> 13 and 64 -> 70 cases, with the
# expected kept blocks and runs of the checker's random masks (non-negative least squares on the
# relative error, on the final kernels' counts); the generic path on its b2 / b6 fallbacks. At 50 %
# kept blocks of 16: 0.93x / 1.14x / 0.92x dense on the M4 / M55 / RV32 (blocks of 4: 1.37x / 3.64x
# / 1.46x), against block8's 0.72x / 0.96x / 0.79x (the pair table or halfword gathers of the 4-bit
# decode), so balanced keeps block8 and size takes block4. Within 6.4 % of every case on the M4,
# 5.6 % on the RV32; on the M55 within 10 % of the 50 %-kept blocks of 16 and 8, within 20 % of
# the others (the refit on the final counts moved no M55 term by more than its error: kept).
KERNEL_COSTS: dict[str, KernelCosts] = {
    "cortex-m-dsp": KernelCosts(
        per_mac={"conv": {"s8": 1.5, "palette4": 10.6, "sparse8": 18.9},
                 "depthwise": {"s8": 5.2, "palette4": 33.0},
                 "fc": {"s8": 1.5, "palette4": 9.2, "sparse8": 18.9}},
        decode_per_weight={"palette4": 6.7, "sparse8": 11.2},
        fc_palette_per_mac=1.75, fc_palette_per_call=1_600, fc_palette_per_output=0.0,
        fc_sparse_per_weight=0.57, fc_sparse_per_nonzero=6.96,
        fc_block=(1.45, 1.5, 15.5, 40.0, 0.0, 0.0), fc_block_generic=(6.2, 23.0),
        fc_block4=(1.81, 0.0, 13.6, 101.6, 0.69, 1_940), fc_block4_generic=(11.9, 28.8)),
    # Cortex-M55 (qemu-mps3-an547; SysTick counts, ~31 instructions of resolution). Dense per MAC:
    # conv_demo_3x3_16to32 / pw_dscnn_64to64 0.23 / 0.255, dw_3x3_32ch 1.72, fc_512to32 0.29.
    # Generic paths x conv_3x3_palette4_6to5 and pw_palette4_16to12 (1.08, 1.04), pw_sparse8_16to12
    # (0.95), dw_3x3_palette4 (1.14), fc_palette4_per_channel_96to20 (0.92),
    # fc_sparse8_76to9_fallback (0.91), fc_block8_b3 / b6 fallbacks (0.96 / 0.93). Decode (MVE,
    # tc_decode_mve.h): palette 0.86 per weight (conv_demo twin), sparse 3.87 (pw_dscnn twin). The
    # MVE shared-palette loop (tc_fc_packed_mve.h) takes depths that are multiples of 32 (6,531 /
    # 4,656 / 2,125 instructions for fc_512to32 / 64to70 no bias / 96to12 two batches); other
    # multiples of 8 take the DSP loop, costed as on the M4. Sparse rows stay on the DSP loop
    # (0.47 + 6.97 per nonzero: 13.6x / 7.6x / 4.6x dense at 50 / 25 / 12.5 %, the dense FC
    # being 5x faster than the M4's). Kept blocks of 16 / 8 / 4 (a TBH per bitmap nibble, so
    # dropped blocks cost too; at any depth): within 13 % of every fitted case (0.95x / 1.43x /
    # 2.61x dense at 50 % kept, 1.34x all kept blocks of 16).
    "helium": KernelCosts(
        per_mac={"conv": {"s8": 0.24, "palette4": 11.2, "sparse8": 18.0},
                 "depthwise": {"s8": 1.72, "palette4": 37.7},
                 "fc": {"s8": 0.29, "palette4": 8.5, "sparse8": 17.3}},
        decode_per_weight={"palette4": 0.86, "sparse8": 3.87},
        fc_palette_per_mac=0.29, fc_palette_per_call=470, fc_palette_per_output=41.0,
        fc_sparse_per_weight=0.47, fc_sparse_per_nonzero=6.97,
        fc_block=(0.15, 0.56, 3.6, 30.0, 0.99, 450), fc_block_generic=(5.8, 21.6),
        fc_block4=(0.16, 0.55, 5.4, 31.5, 1.28, 578), fc_block4_generic=(7.7, 43.8),
        fc_palette_depth_step=32, fc_palette_fallback="cortex-m-dsp", fc_block_max_depth=None),
    # rv32imc (qemu-riscv32, minstret). Dense per MAC: conv_demo / pw_dscnn 3.67 / 3.93,
    # dw_3x3_32ch 10.3, fc_512to32 4.39. Generic paths x conv_3x3_palette4_6to5 and
    # pw_palette4_16to12 (0.92, 1.10), pw_sparse8_16to12 (1.04), dw_3x3_palette4 (1.01),
    # fc_palette4_per_channel_96to20 (1.14), fc_sparse8_76to9_fallback (1.00), fc_block8_b3 / b6
    # (1.10 / 1.17). Decode: palette 8.19, sparse 8.22 per weight. The C packed loops
    # (arch/portable/tc_fully_connected_s8.c): shared palette 100,347 / 33,358 / 19,474; sparse 2.2
    # per weight (a bit test each) + 6.98 per nonzero (1.27x / 0.94x / 0.68x dense); kept blocks
    # within 7 % of every fitted case (0.80x / 0.96x / 1.29x dense at 50 % kept blocks of 16 / 8 / 4).
    "portable": KernelCosts(
        per_mac={"conv": {"s8": 3.8, "palette4": 10.7, "sparse8": 19.6},
                 "depthwise": {"s8": 10.3, "palette4": 33.4},
                 "fc": {"s8": 4.4, "palette4": 10.5, "sparse8": 19.0}},
        decode_per_weight={"palette4": 8.19, "sparse8": 8.22},
        fc_palette_per_mac=5.73, fc_palette_per_call=5_540, fc_palette_per_output=31.0,
        fc_sparse_per_weight=2.2, fc_sparse_per_nonzero=6.98,
        fc_block=(4.9, 1.2, 41.0, 70.0, 1.4, 1_460), fc_block_generic=(7.0, 26.0),
        fc_block4=(5.67, 0.46, 48.8, 113.7, 0.75, 2_480), fc_block4_generic=(9.4, 29.5)),
}
SCRATCH_KINDS = ("conv",)  # kernels that decode into a scratch (tc_conv_decoded)


def kernel_costs(runtime_arch: str) -> KernelCosts:
    """The cost terms of a kernel chain (a board's ``runtime_arch``), else an InputError naming them."""
    costs = KERNEL_COSTS.get(runtime_arch)
    if costs is None:
        raise InputError(f"no storage cost model for the {runtime_arch!r} kernels; use one of "
                         f"{', '.join(sorted(KERNEL_COSTS))}")
    return costs


@dataclass(frozen=True)
class StorageOption:
    """One way to store a layer's weights: its flash bytes, estimated instructions, scratch RAM."""

    storage: str
    flash_bytes: int
    instructions: float
    scratch_bytes: int = 0
    detail: str = ""  # what a report should know of the packing, e.g. its block size


@dataclass(frozen=True)
class StorageChoice:
    """The option an objective picked, and a one-line reason for reports."""

    storage: str
    scratch_bytes: int
    reason: str


def check_objective(objective: str) -> str:
    """``objective`` if it is one of OBJECTIVES, else an InputError naming them."""
    if objective not in OBJECTIVES:
        raise InputError(f"unknown storage objective {objective!r}; use one of {', '.join(OBJECTIVES)}")
    return objective


@dataclass(frozen=True)
class FcPacked:
    """What FULLY_CONNECTED's packed loops need to know of a layer they can run (``fc_packed``)."""

    shared_palette: bool  # its palette, if any, is one for every row
    nonzero: int  # nonzero weights, for the sparse loop's cost
    depth: int  # input depth (row length): Helium's palette loop takes multiples of 32


def fc_packed(weights: np.ndarray) -> FcPacked | None:
    """The FcPacked of a FULLY_CONNECTED layer's int8 weights ``[units, depth]``, None when its
    packed loops do not take that depth (its packed weights then go through the generic path).
    The palette is shared when the whole tensor has at most 16 values, as ``packing.pack_palette4``
    packs it."""
    depth = weights.shape[-1]
    if depth % FC_PACKED_DEPTH_STEP or depth > FC_PACKED_MAX_DEPTH:
        return None
    return FcPacked(np.unique(weights).size <= 16, int(np.count_nonzero(weights)), depth)


@dataclass(frozen=True)
class FcBlocks:
    """What FULLY_CONNECTED's kept-block loops cost depends on (``fc_blocks``)."""

    block: int  # weights per block
    kept: int  # kept blocks over all rows
    runs: int  # runs of consecutive kept blocks within a row, over all rows
    depth: int  # input depth (row length)
    indices: bool = False  # kept blocks of 4-bit palette indices (block4), not of int8 (block8)

    def describe(self, elements: int) -> str:
        """The packing for a reason line: "blocks of 16, 512 of 1,024 kept"."""
        return f"blocks of {self.block}, {self.kept:,} of {elements // self.block:,} kept"

    def instructions(self, macs: int, elements: int, costs: KernelCosts) -> float:
        """Estimated instructions of a call of ``macs`` dense MACs on ``elements`` weights."""
        batches, units = macs // elements, elements // self.depth
        kept_weights = self.kept * self.block
        if costs.fc_block_max_depth is not None and self.depth > costs.fc_block_max_depth:
            per_weight, per_block = costs.fc_block4_generic if self.indices else costs.fc_block_generic
            return batches * (kept_weights * per_weight + self.kept * per_block)
        per_weight, per_block, per_run, per_row, per_bitmap_block, per_call = (
            costs.fc_block4 if self.indices else costs.fc_block)
        return per_call + batches * (kept_weights * per_weight + self.kept * per_block + self.runs * per_run
                                     + units * per_row + elements // self.block * per_bitmap_block)


def fc_blocks(weights: np.ndarray, indices: bool = False) -> FcBlocks | None:
    """The FcBlocks of a FULLY_CONNECTED layer's int8 weights ``[units, depth]`` as codegen packs
    them (``packing.best_block8``; with ``indices``, ``packing.best_block4``), None when it offers
    no block8 (block4) storage."""
    packed = packing.best_block4(weights) if indices else packing.best_block8(weights)
    return None if packed is None else block_costs(packed, weights.shape[-1])


def block_costs(packed: packing.Block8 | packing.Block4, depth: int) -> FcBlocks:
    """The FcBlocks of a kept-block packing of rows of ``depth`` weights."""
    return FcBlocks(packed.block, packed.kept_blocks, packed.runs, depth, isinstance(packed, packing.Block4))


def storage_options(kind: str, macs: int, elements: int, sizes: dict[str, int | None],
                    scratch: bool = True, fc_packed: FcPacked | None = None,
                    fc_blocks: FcBlocks | None = None, fc_blocks4: FcBlocks | None = None,
                    runtime_arch: str = DEFAULT_ARCH) -> list[StorageOption]:
    """Every storage a layer of ``kind`` ("conv", "depthwise", "fc") can take, with its cost.

    ``sizes`` maps a storage to its flash bytes, None when the weights cannot take it. With
    ``scratch``, a packed conv is decoded into a scratch of ``elements`` bytes and costs the dense
    kernel plus the decode; otherwise it runs the generic packed path. A FULLY_CONNECTED layer
    with ``fc_packed`` runs a shared palette or sparse weights through its packed loops, and
    with ``fc_blocks`` its kept blocks ("block8", offered only then), with ``fc_blocks4`` its kept
    blocks of 4-bit indices ("block4", likewise). Costs are those of the ``runtime_arch`` kernel
    chain (KERNEL_COSTS)."""
    costs = kernel_costs(runtime_arch)
    per_mac = costs.per_mac[kind]
    options = []
    for storage, flash in sizes.items():
        if flash is None:
            continue
        if storage in ("block8", "block4"):
            blocks = fc_blocks if storage == "block8" else fc_blocks4
            if kind == "fc" and blocks is not None:
                options.append(StorageOption(storage, flash, blocks.instructions(macs, elements, costs),
                                             detail=blocks.describe(elements)))
            continue
        if storage not in per_mac:
            continue
        if storage != "s8" and scratch and kind in SCRATCH_KINDS:
            cost = macs * per_mac["s8"] + elements * costs.decode_per_weight[storage]
            options.append(StorageOption(storage, flash, cost, elements))
        elif kind == "fc" and fc_packed is not None and storage == "sparse8":
            per_weight = costs.fc_sparse_per_weight + costs.fc_sparse_per_nonzero * fc_packed.nonzero / elements
            options.append(StorageOption(storage, flash, macs * per_weight))
        elif kind == "fc" and fc_packed is not None and storage == "palette4" and fc_packed.shared_palette:
            loop = costs
            if fc_packed.depth % costs.fc_palette_depth_step and costs.fc_palette_fallback is not None:
                loop = KERNEL_COSTS[costs.fc_palette_fallback]
            cost = (macs * loop.fc_palette_per_mac + loop.fc_palette_per_call
                    + macs // fc_packed.depth * loop.fc_palette_per_output)
            options.append(StorageOption(storage, flash, cost))
        else:
            options.append(StorageOption(storage, flash, macs * per_mac[storage]))
    return options


def choose_storage(options: list[StorageOption], objective: str, runtime_arch: str = DEFAULT_ARCH) -> StorageChoice:
    """The option ``objective`` prefers (see the module docstring), with why; the reason names the
    kernel chain the options were costed for (``storage_options``) unless it is DEFAULT_ARCH."""
    check_objective(objective)
    kernel_costs(runtime_arch)
    fastest = min(options, key=lambda o: (o.instructions, o.flash_bytes))
    dense = next((o for o in options if o.storage == "s8"), fastest)
    if objective == "speed":
        pick, rule = fastest, "speed: fewest instructions"
    elif objective == "size":
        pick, rule = min(options, key=lambda o: (o.flash_bytes, o.instructions)), "size: fewest bytes"
    else:
        within = [o for o in options if o.instructions <= BALANCED_SLACK * fastest.instructions]
        pick = min(within, key=lambda o: (o.flash_bytes, o.instructions))
        rule = f"balanced: fewest bytes within {BALANCED_SLACK}x the fastest"
    if runtime_arch != DEFAULT_ARCH:
        rule = rule.replace(":", f" ({runtime_arch}):", 1)
    reason = (f"{rule}; {pick.flash_bytes:,} B ({pick.flash_bytes / dense.flash_bytes:.0%} of s8), "
              f"~{pick.instructions / dense.instructions:.2f}x s8 instructions")
    if pick.detail:
        reason += f", {pick.detail}"
    if pick.scratch_bytes:
        reason += f", decoded once per call into a {pick.scratch_bytes:,} B arena scratch"
    return StorageChoice(pick.storage, pick.scratch_bytes, reason)
