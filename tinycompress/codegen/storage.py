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
nonzeros (the 1.15x of ``balanced`` holds up to ~16 % of them). CONV_2D
reuses each weight at every output pixel, so a packed CONV_2D gets a
*decode scratch* instead: an arena region (planned like an activation,
alive during that layer only) where the kernel decodes the dense tensor
once per call and then runs the dense loops; the cost is a few
instructions per weight, once. The generator
keeps a scratch only where it fits beside the layer's live activations
without growing the arena (``emit.generate``), and otherwise chooses again
without one.

The objective picks among the options with a per-op cost model
(instructions per MAC, and per decoded weight) calibrated on
qemu-netduinoplus2 (Cortex-M4, ``-icount shift=0``) with the arch checker
``firmware/runtime/tests/tc_arch_check.c``; it ranks options of one layer,
it does not predict latency:

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
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from tinycompress.errors import InputError

OBJECTIVES = ("size", "speed", "balanced")
DEFAULT_OBJECTIVE = "balanced"
BALANCED_SLACK = 1.15  # issue 9: a packed conv may cost at most 1.15x its dense kernel

# Instructions per (dense) MAC of each op's kernel on the Cortex-M4 DSP build, from tc_arch_check.c
# on qemu-netduinoplus2: conv_demo_3x3_16to32 / pw_dscnn_64to64 (dense: 1.54 / 1.42), the demo
# CNN's palette conv2 through the generic path (10.6), pw_sparse8_16to12 (18.9, the same
# tc_sparse8_dot as FULLY_CONNECTED's generic path), dw_3x3_32ch (5.2), dw_3x3_palette4 (33), the
# demo CNN's fc1 (512 -> 64) dense (1.49) and per-channel palette on the generic path (9.2).
INSTRUCTIONS_PER_MAC = {
    "conv": {"s8": 1.5, "palette4": 10.6, "sparse8": 18.9},
    "depthwise": {"s8": 5.2, "palette4": 33.0},
    "fc": {"s8": 1.5, "palette4": 9.2, "sparse8": 18.9},
}
# Instructions per weight to decode a packed tensor into its scratch (tc_weights_decode), from the
# twins conv_demo_3x3_16to32_palette4_scratch (6.7) and pw_dscnn_64to64_sparse8_scratch (11.2).
DECODE_PER_WEIGHT = {"palette4": 6.7, "sparse8": 11.2}
SCRATCH_KINDS = ("conv",)  # kernels that decode into a scratch (tc_conv_decoded)
# FULLY_CONNECTED's packed loops (arch/cortex-m-dsp/tc_fc_packed_dsp.h; portable and Helium have
# their own) take input depths that are a multiple of FC_PACKED_DEPTH_STEP up to FC_PACKED_MAX_DEPTH
# (TC_FC_PACKED_MAX). Their cost, from the twins fc_512to32 (dense: 1.55 per MAC),
# fc_512to32_palette4_shared (31,271 instructions for 16,384 MACs) and the demo CNN's fc1 / fc2
# (58,616 for 32,768 / 3,475 for 640): 1.75 per MAC plus ~1,600 per call for the palette table and
# the widened input; fc_512to32_sparse8 at 50 / 25 / 12.5 % nonzeros (66,354 / 37,836 / 23,584 for
# 16,384 weights): 0.57 per weight + 6.96 per nonzero.
FC_PACKED_DEPTH_STEP = 8
FC_PACKED_MAX_DEPTH = 1024
FC_PALETTE_SHARED_PER_MAC, FC_PALETTE_SHARED_PER_CALL = 1.75, 1_600
FC_SPARSE_PER_WEIGHT, FC_SPARSE_PER_NONZERO = 0.57, 6.96


@dataclass(frozen=True)
class StorageOption:
    """One way to store a layer's weights: its flash bytes, estimated instructions, scratch RAM."""

    storage: str
    flash_bytes: int
    instructions: float
    scratch_bytes: int = 0


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


def fc_packed(weights: np.ndarray) -> FcPacked | None:
    """The FcPacked of a FULLY_CONNECTED layer's int8 weights ``[units, depth]``, None when its
    packed loops do not take that depth (its packed weights then go through the generic path).
    The palette is shared when the whole tensor has at most 16 values, as ``packing.pack_palette4``
    packs it."""
    depth = weights.shape[-1]
    if depth % FC_PACKED_DEPTH_STEP or depth > FC_PACKED_MAX_DEPTH:
        return None
    return FcPacked(np.unique(weights).size <= 16, int(np.count_nonzero(weights)))


def storage_options(kind: str, macs: int, elements: int, sizes: dict[str, int | None],
                    scratch: bool = True, fc_packed: FcPacked | None = None) -> list[StorageOption]:
    """Every storage a layer of ``kind`` ("conv", "depthwise", "fc") can take, with its cost.

    ``sizes`` maps a storage to its flash bytes, None when the weights cannot take it. With
    ``scratch``, a packed conv is decoded into a scratch of ``elements`` bytes and costs the dense
    kernel plus the decode; otherwise it runs the generic packed path. A FULLY_CONNECTED layer
    with ``fc_packed`` runs a shared palette or sparse weights through its packed loops."""
    per_mac = INSTRUCTIONS_PER_MAC[kind]
    options = []
    for storage, flash in sizes.items():
        if flash is None or storage not in per_mac:
            continue
        if storage != "s8" and scratch and kind in SCRATCH_KINDS:
            cost = macs * per_mac["s8"] + elements * DECODE_PER_WEIGHT[storage]
            options.append(StorageOption(storage, flash, cost, elements))
        elif kind == "fc" and fc_packed is not None and storage == "sparse8":
            per_weight = FC_SPARSE_PER_WEIGHT + FC_SPARSE_PER_NONZERO * fc_packed.nonzero / elements
            options.append(StorageOption(storage, flash, macs * per_weight))
        elif kind == "fc" and fc_packed is not None and storage == "palette4" and fc_packed.shared_palette:
            cost = macs * FC_PALETTE_SHARED_PER_MAC + FC_PALETTE_SHARED_PER_CALL
            options.append(StorageOption(storage, flash, cost))
        else:
            options.append(StorageOption(storage, flash, macs * per_mac[storage]))
    return options


def choose_storage(options: list[StorageOption], objective: str) -> StorageChoice:
    """The option ``objective`` prefers (see the module docstring), with why."""
    check_objective(objective)
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
    reason = (f"{rule}; {pick.flash_bytes:,} B ({pick.flash_bytes / dense.flash_bytes:.0%} of s8), "
              f"~{pick.instructions / dense.instructions:.2f}x s8 instructions")
    if pick.scratch_bytes:
        reason += f", decoded once per call into a {pick.scratch_bytes:,} B arena scratch"
    return StorageChoice(pick.storage, pick.scratch_bytes, reason)
