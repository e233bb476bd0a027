"""A build links only the weight-format code its model uses (TC_WEIGHT_FORMATS).

Every kernel selects its packed-weight paths (palette, sparse, block) at run
time, so --gc-sections cannot drop them; the generator knows the formats a
model uses, writes them into model.h and guards model.c, and projects and the
size measurement build the runtime with that mask. A format left out must be
refused by the kernels (TC_ERR_UNSUPPORTED), never computed wrongly, and must
stop the build of a model that needs it.
"""

from __future__ import annotations

import ctypes
import re
import subprocess
from pathlib import Path

import numpy as np
import pytest

import keras_int8
from tinycompress.codegen import generate
from tinycompress.codegen.build import host_runtime_sources
from tinycompress.codegen.emit import GeneratedModel
from tinycompress.codegen.size import cortex_m4_size
from tinycompress.tflite import read_model

pytestmark = [pytest.mark.host, pytest.mark.needs_tools("gcc")]

RUNTIME = Path(__file__).resolve().parents[2] / "firmware" / "runtime"
WARNINGS = ["-std=c99", "-Wall", "-Wextra", "-Werror"]
ALL_FORMATS, DENSE, PALETTE4, SPARSE8, BLOCK8, BLOCK4 = 0x1F, 0x1, 0x2, 0x4, 0x8, 0x10  # TC_FORMAT_* of tc_runtime.h
TC_OK, TC_ERR_UNSUPPORTED = 0, 3
M4 = ("-mcpu=cortex-m4", "-mthumb", "-mfloat-abi=hard", "-mfpu=fpv4-sp-d16")
M55 = ("-mcpu=cortex-m55", "-mthumb", "-mfloat-abi=hard")
# The FULLY_CONNECTED packed loops (shared palette, sparse rows, kept blocks) of each Arm kernel chain.
PACKED_SYMBOL = re.compile(r"_(pal|sparse|block)")


@pytest.fixture(scope="module")
def dense_model() -> GeneratedModel:
    """The small test CNN (conv, depthwise, dense): every layer's weights dense int8."""
    return generate(read_model(keras_int8.convert_int8(keras_int8.small_cnn(0))))


@pytest.fixture(scope="module")
def packed_model() -> GeneratedModel:
    """Dense layers stored as a shared palette and sparse rows (--optimize size)."""
    tflite = keras_int8.convert_int8(keras_int8.packed_dense(), per_channel=False)
    return generate(read_model(tflite), optimize="size")


def test_model_header_states_the_formats_its_layers_use(dense_model: GeneratedModel,
                                                        packed_model: GeneratedModel) -> None:
    assert {layer.storage for layer in dense_model.layers} <= {"s8", "-"}
    assert dense_model.weight_formats == DENSE
    assert "#define TC_MODEL_WEIGHT_FORMATS 0x1u" in dense_model.files["model.h"]
    assert "#error" not in dense_model.files["model.c"]
    assert [layer.storage for layer in packed_model.layers if layer.storage != "-"] == ["palette4", "sparse8"]
    assert packed_model.weight_formats == DENSE | PALETTE4 | SPARSE8
    assert "#define TC_MODEL_WEIGHT_FORMATS 0x7u" in packed_model.files["model.h"]


def _compile_model(generated: GeneratedModel, folder: Path, formats: int) -> subprocess.CompletedProcess[str]:
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in generated.files.items():
        (folder / name).write_text(text)
    return subprocess.run(["gcc", *WARNINGS, f"-DTC_WEIGHT_FORMATS=0x{formats:X}", f"-I{RUNTIME / 'include'}",
                           f"-I{folder}", "-c", str(folder / "model.c"), "-o", str(folder / "model.o")],
                          capture_output=True, text=True)


def test_a_model_built_without_a_format_it_uses_does_not_compile(packed_model: GeneratedModel,
                                                                  tmp_path: Path) -> None:
    """Its kernels would refuse the layer at run time: the build stops first, naming the format and the fix."""
    assert _compile_model(packed_model, tmp_path / "ok", DENSE | PALETTE4 | SPARSE8).returncode == 0
    failed = _compile_model(packed_model, tmp_path / "no_palette", DENSE | SPARSE8)
    assert failed.returncode != 0
    errors = [line for line in failed.stderr.splitlines() if "error: #error" in line]
    assert len(errors) == 1, failed.stderr
    assert "palette4" in errors[0] and "TC_FORMAT_PALETTE4" in errors[0]
    assert "-DTC_WEIGHT_FORMATS=0x7" in errors[0]


class Weights(ctypes.Structure):
    _fields_ = [("format", ctypes.c_int), ("data", ctypes.c_void_p), ("bytes", ctypes.c_uint32),
                ("scratch", ctypes.c_void_p)]


class Requant(ctypes.Structure):
    _fields_ = [("multiplier", ctypes.c_void_p), ("shift", ctypes.c_void_p), ("per_channel", ctypes.c_int32)]


class FullyConnected(ctypes.Structure):
    _fields_ = [(n, ctypes.c_int32) for n in ("batches", "input_depth", "output_depth", "input_zero_point",
                                              "weights_zero_point", "output_zero_point", "act_min", "act_max")]
    _fields_ += [("weights", Weights), ("bias", ctypes.c_void_p), ("requant", Requant)]


class Palette4(ctypes.Structure):
    _fields_ = [("palette", ctypes.c_void_p), ("indices", ctypes.c_void_p), ("shared", ctypes.c_int32)]


class Sparse8(ctypes.Structure):
    _fields_ = [("bitmap", ctypes.c_void_p), ("values", ctypes.c_void_p), ("channel_start", ctypes.c_void_p)]


class Block8(ctypes.Structure):
    _fields_ = [("bitmap", ctypes.c_void_p), ("values", ctypes.c_void_p), ("channel_start", ctypes.c_void_p),
                ("block", ctypes.c_int32)]


class Block4(ctypes.Structure):
    _fields_ = [("bitmap", ctypes.c_void_p), ("indices", ctypes.c_void_p), ("channel_start", ctypes.c_void_p),
                ("palette", ctypes.c_void_p), ("block", ctypes.c_int32)]


def _fc_library(folder: Path, formats: int) -> ctypes.CDLL:
    """The host FULLY_CONNECTED kernel (the host chain's file) built with the mask ``formats``."""
    source = next(path for path in host_runtime_sources() if path.name == "tc_fully_connected_s8.c")
    lib = folder / f"libfc_{formats:x}.so"
    subprocess.run(["gcc", *WARNINGS, "-O2", "-fPIC", "-shared", f"-DTC_WEIGHT_FORMATS=0x{formats:X}",
                    f"-I{RUNTIME / 'include'}", str(source), "-o", str(lib)], check=True, capture_output=True)
    return ctypes.CDLL(str(lib))


def test_a_compiled_out_format_is_refused_not_computed(tmp_path: Path) -> None:
    """The same packed layers run with every format compiled in, and give TC_ERR_UNSUPPORTED
    (output untouched) in a dense-only build, block4 alone in a build without TC_FORMAT_BLOCK4;
    dense weights run in all."""
    rows, depth = 2, 8
    keep = []  # the C structs point into these arrays

    def array(values: list[int], dtype: type = np.int8) -> int:
        keep.append(np.array(values, dtype))
        return keep[-1].ctypes.data

    palette = Palette4(array(list(range(-8, 8)) * rows), array([0x10, 0x32, 0x54, 0x76] * rows), 0)
    sparse = Sparse8(array([0b10000001] * rows, np.uint8), array([3, -2] * rows), array([0, 2], np.uint32))
    block = Block8(array([0b01] * rows, np.uint8), array([1, 2, 3, 4] * rows), array([0, 4], np.uint32), 4)
    block4 = Block4(array([0b10] * rows, np.uint8), array([0x10, 0x32] * rows, np.uint8), array([0, 2], np.uint32),
                    array(list(range(-8, 8))), 4)
    layers = {"s8": Weights(0, array([1] * rows * depth), rows * depth, None),
              "palette4": Weights(1, ctypes.addressof(palette), rows * depth // 2, None),
              "sparse8": Weights(2, ctypes.addressof(sparse), rows, None),
              "block8": Weights(3, ctypes.addressof(block), rows, None),
              "block4": Weights(4, ctypes.addressof(block4), rows, None)}
    requant = Requant(array([1 << 30], np.int32), array([0], np.int32), 0)
    x = np.arange(depth, dtype=np.int8)
    packed = set(layers) - {"s8"}
    for formats, refused in ((ALL_FORMATS, set()), (DENSE, packed), (ALL_FORMATS & ~BLOCK4, {"block4"})):
        fc = _fc_library(tmp_path, formats).tc_fully_connected_s8
        for name, weights in layers.items():
            out = np.full(rows, 99, np.int8)
            params = FullyConnected(1, depth, rows, 0, 0, 0, -128, 127, weights, None, requant)
            status = fc(ctypes.byref(params), x.ctypes.data_as(ctypes.c_void_p),
                        out.ctypes.data_as(ctypes.c_void_p))
            assert status == (TC_ERR_UNSUPPORTED if name in refused else TC_OK), (hex(formats), name)
            if status != TC_OK:
                assert (out == 99).all(), name
            elif name == "block4":  # block 1 kept: palette -8..-5 times x 4..7, -138, halved by the requant
                assert (out == -69).all(), out


def _arm_object(source: str, cpu: tuple[str, ...], formats: int, folder: Path) -> dict[str, int]:
    """Symbol -> size of the arch kernel ``source`` compiled for ``cpu`` with the mask ``formats``."""
    obj = folder / f"{Path(source).parent.name}_{formats:x}.o"
    subprocess.run(["arm-none-eabi-gcc", *cpu, "-O2", *WARNINGS, f"-DTC_WEIGHT_FORMATS=0x{formats:X}",
                    f"-I{RUNTIME / 'include'}", "-c", str(RUNTIME / source), "-o", str(obj)],
                   check=True, capture_output=True)
    nm = subprocess.run(["arm-none-eabi-nm", "-S", str(obj)], check=True, capture_output=True, text=True).stdout
    return {fields[3]: int(fields[1], 16) for fields in map(str.split, nm.splitlines()) if len(fields) == 4}


@pytest.mark.needs_tools("arm-none-eabi-gcc")
@pytest.mark.parametrize(("source", "cpu", "saved"), [
    # arm-none-eabi-gcc 12.2 -O2: 6,748 -> 3,396 B of .text on the M4, 10,036 -> 1,620 B on the M55.
    ("arch/cortex-m-dsp/tc_fully_connected_s8.c", M4, 2_500),
    ("arch/helium/tc_fully_connected_s8.c", M55, 6_000),
])
def test_a_dense_build_compiles_out_the_packed_fc_loops(source: str, cpu: tuple[str, ...], saved: int,
                                                        tmp_path: Path) -> None:
    full = _arm_object(source, cpu, ALL_FORMATS, tmp_path)
    dense = _arm_object(source, cpu, DENSE, tmp_path)
    assert {"tc_fc_pal_batch", "tc_fc_sparse_batch", "tc_fc_block_batch", "tc_fc_block4_batch"} <= set(full)
    assert not [name for name in dense if PACKED_SYMBOL.search(name)], sorted(dense)
    assert sum(full.values()) - sum(dense.values()) >= saved


@pytest.mark.needs_tools("arm-none-eabi-gcc")
def test_size_measures_a_dense_model_without_packed_code(dense_model: GeneratedModel) -> None:
    """codegen.size links the runtime with the model's mask, as a generated project builds it: the
    reference kernels' palette / sparse / block paths (tc_weights.h) drop out of .text."""
    # Cortex-M4 -Os, the small CNN with the src/ kernels: 4,378 -> 3,220 B of .text (arm-none-eabi-gcc 12.2).
    own = cortex_m4_size(dense_model)
    every = cortex_m4_size(dense_model, weight_formats=ALL_FORMATS)
    assert every.text - own.text >= 800
    assert (own.rodata, own.bss) == (every.rodata, every.bss)
