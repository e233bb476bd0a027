"""The generated C itself: readable, warning-free, profiled, and honest about mismatches."""

from __future__ import annotations

import dataclasses
import re
import subprocess

import numpy as np
import pytest

import keras_int8
from tinycompress import __version__
from tinycompress.codegen import generate, runtime_include_dirs, runtime_sources
from tinycompress.codegen.build import build_host, host_runtime_sources
from tinycompress.codegen.cgen import MAX_LINE
from tinycompress.codegen.verify import random_inputs, verify_generated
from tinycompress.errors import InputError, ToolError
from tinycompress.oracle import TflmOracle
from tinycompress.resources import RUNTIME_ARCH_CHAINS, runtime_arch_folders, runtime_dir
from tinycompress.tflite import read_model

pytestmark = [pytest.mark.host, pytest.mark.needs_tools("gcc")]


@pytest.fixture(scope="module")
def small() -> bytes:
    return keras_int8.convert_int8(keras_int8.small_cnn())


def test_generated_files_are_readable(small: bytes) -> None:
    model = read_model(small)
    gen = generate(model, prefix="kws")
    c, h = gen.files["model.c"], gen.files["model.h"]
    for text in (c, h):
        assert f"tinycompress.codegen {__version__}" in text and model.sha256 in text
        assert max(len(line) for line in text.splitlines()) <= MAX_LINE
    assert "#define KWS_INPUT_BYTES 432" in h and "#define KWS_OUTPUT_BYTES 10" in h
    assert f"#define KWS_ARENA_BYTES {gen.arena_bytes}" in h
    assert "tc_status_t kws_invoke(void);" in h and "kws_layers[KWS_NUM_LAYERS]" in h
    weights = re.findall(r"static const int8_t kws_l\d+_w\[\d+\] KWS_ALIGNED", c)
    assert len(weights) == 3  # conv, depthwise, dense
    assert "__attribute__((aligned(16)))" in c
    assert c.count("status = tc_") == len(gen.layers) == 5  # RESHAPE is a view: no call
    assert "malloc" not in c


@pytest.mark.parametrize("prefix", ["", "1abc", "my-model", "int", "a" * 60])
def test_bad_prefix(small: bytes, prefix: str) -> None:
    with pytest.raises(InputError, match="not a valid C identifier"):
        generate(read_model(small), prefix=prefix)


def test_profile_build_fills_layer_ticks(small: bytes, tmp_path) -> None:
    """-DTC_PROFILE_LAYERS: invoke reads tc_port_timer_read() around every layer."""
    gen = generate(read_model(small))
    for name, text in gen.files.items():
        (tmp_path / name).write_text(text)
    (tmp_path / "main.c").write_text(
        '#include <stdio.h>\n#include "model.h"\n'
        "static uint32_t now;\nuint32_t tc_port_timer_read(void) { now += 7; return now; }\n"
        "int main(void) {\n  int i;\n  if (tc_model_invoke() != TC_OK) return 1;\n"
        "  for (i = 0; i < TC_MODEL_NUM_LAYERS; ++i)\n"
        '    printf("%s %s %lu %lu\\n", tc_model_layers[i].op, tc_model_layers[i].name,\n'
        "           (unsigned long)tc_model_layers[i].macs, (unsigned long)tc_model_layer_ticks[i]);\n"
        "  return 0;\n}\n")
    exe = tmp_path / "prof"
    subprocess.run(["gcc", "-std=c99", "-Wall", "-Wextra", "-Werror", "-DTC_PROFILE_LAYERS",
                    *(f"-I{d}" for d in (tmp_path, *runtime_include_dirs())),
                    str(tmp_path / "model.c"), str(tmp_path / "main.c"), *map(str, runtime_sources()),
                    "-o", str(exe)], check=True, capture_output=True)
    rows = [line.split() for line in subprocess.run([str(exe)], check=True, capture_output=True,
                                                     text=True).stdout.splitlines()]
    assert [r[0] for r in rows] == [layer.op for layer in gen.layers]
    assert [int(r[2]) for r in rows] == [layer.macs for layer in gen.layers]
    assert all(int(r[3]) == 7 for r in rows)


def test_mismatch_names_first_diverging_layer(small: bytes) -> None:
    """Corrupt one layer's constants: verification must fail there, not elsewhere."""
    gen = generate(read_model(small))
    c = gen.files["model.c"]
    start = c.index("static const tc_depthwise_conv_params_t tc_model_l1")
    field = c.index(".output_zero_point = ", start)
    end = c.index(",", field)
    broken = c[:field] + ".output_zero_point = -100" + c[end:]
    bad = dataclasses.replace(gen, files={**gen.files, "model.c": broken})
    result = verify_generated(small, bad, random_inputs((1, 12, 12, 3), 4))
    assert not result.bit_exact and result.mismatched_samples == 4
    assert result.first_diverging_index == 1
    assert result.first_diverging_layer.startswith("DEPTHWISE_CONV_2D#1:depthwise_conv2d")
    assert result.first_diverging_tensor == gen.layers[1].name


def test_host_run_equals_oracle_on_data(small: bytes, tmp_path) -> None:
    """The host build as a filter process: many samples in one run, each equal to TFLM."""
    gen = generate(read_model(small))
    host = build_host(gen, tmp_path)
    oracle = TflmOracle(small)
    xs = oracle.input.quantize(np.random.default_rng(3).normal(0, 1, (30, 12, 12, 3)))
    assert np.array_equal(host.run(xs), oracle.run_batch(xs).reshape(30, -1))


def _pruned_model(sparsity: float, seed: int = 0):
    """Dense + 1x1 conv layers with ``sparsity`` of their kernels zeroed (as pruning leaves them)."""
    layers = keras_int8.layers
    keras_int8.tf_keras.utils.set_random_seed(seed)
    inp = layers.Input((6, 6, 16))
    x = layers.Conv2D(24, 1, activation="relu")(inp)
    x = layers.Conv2D(8, 3)(x)
    x = layers.Flatten()(x)
    x = layers.Dense(64, activation="relu")(x)
    out = layers.Dense(10)(x)
    model = keras_int8.tf_keras.Model(inp, out)
    rng = np.random.default_rng(seed)
    for layer in model.layers:
        weights = layer.get_weights()
        if weights:
            kernel = weights[0] * (rng.random(weights[0].shape) >= sparsity)
            layer.set_weights([kernel, *weights[1:]])
    return model


def test_pruned_weights_are_stored_sparse_and_stay_bit_exact() -> None:
    tflite = keras_int8.convert_int8(_pruned_model(0.8))
    gen = generate(read_model(tflite), optimize="size")  # the fewest bytes (balanced keeps the FCs dense)
    storage = {(layer.op, layer.index): layer.storage for layer in gen.layers}
    assert storage[("CONV_2D", 0)] == "sparse8"  # 1x1 conv
    assert storage[("CONV_2D", 1)] == "s8"  # 3x3: the sparse kernel does not take it
    assert storage[("FULLY_CONNECTED", 2)] == "sparse8" and storage[("FULLY_CONNECTED", 3)] == "sparse8"
    dense = keras_int8.convert_int8(_pruned_model(0.0))
    assert gen.weights_bytes < 0.6 * generate(read_model(dense), optimize="size").weights_bytes
    result = verify_generated(tflite, gen, random_inputs((1, 6, 6, 16), 10))
    assert result.bit_exact and result.samples == 10


@pytest.mark.parametrize("arch", sorted(RUNTIME_ARCH_CHAINS))
def test_runtime_sources_take_each_kernel_from_the_first_folder_of_the_chain(arch: str) -> None:
    """helium -> cortex-m-dsp -> portable -> src: an M55 build also gets the DSP and portable kernels."""
    reference = runtime_sources()
    chosen = runtime_sources(arch)
    assert [p.name for p in reference] == [p.name for p in chosen]
    folders = runtime_arch_folders(arch)
    for source in chosen:
        having = [folder for folder in folders if (folder / source.name).is_file()]
        assert source.parent == (having[0] if having else runtime_dir() / "src"), source


def test_runtime_sources_chains() -> None:
    def origin(arch: str | None, name: str) -> str:
        return next(p.parent.name for p in runtime_sources(arch) if p.name == name)

    assert origin("helium", "tc_conv_s8.c") == "helium"
    assert origin("helium", "tc_depthwise_conv_s8.c") == "helium"
    assert origin("helium", "tc_softmax_s8.c") == "src"
    assert origin("cortex-m-dsp", "tc_depthwise_conv_s8.c") == "cortex-m-dsp"
    assert origin("portable", "tc_depthwise_conv_s8.c") == "portable"
    assert origin(None, "tc_depthwise_conv_s8.c") == "src"
    # verify's host build checks the portable kernels RISC-V and Xtensa boards run
    assert {p.parent.name for p in host_runtime_sources()} == {"src", "portable"}
    with pytest.raises(InputError, match="no runtime kernels for arch 'vax'; known: cortex-m-dsp, helium, portable"):
        runtime_sources("vax")


def test_header_describes_input_and_output_exactly(small: bytes, tmp_path) -> None:
    """RANK/DIMS/SCALE/ZERO_POINT compile warning-free and equal the .tflite's, scale to the float32 bit."""
    model = read_model(small)
    (tmp_path / "model.h").write_text(generate(model).files["model.h"])
    lines = ['#include <stdio.h>', '#include <string.h>', '#include "model.h"', "",
             "static void show(const char *role, unsigned rank, const uint32_t *dims, float scale, long zp)",
             "{", "    unsigned i;", "    uint32_t bits;", "    memcpy(&bits, &scale, sizeof bits);",
             '    printf("%s %lu %ld", role, (unsigned long)bits, zp);',
             '    for (i = 0; i < rank; i++) printf(" %lu", (unsigned long)dims[i]);',
             '    printf("\\n");', "}", "", "int main(void)", "{"]
    for role in ("INPUT", "OUTPUT"):
        m = f"TC_MODEL_{role}"
        lines += [f"    {{ static const uint32_t d[{m}_RANK] = {m}_DIMS;",
                  f'      show("{role}", {m}_RANK, d, {m}_SCALE, (long){m}_ZERO_POINT); }}']
    lines += ["    return 0;", "}", ""]
    (tmp_path / "main.c").write_text("\n".join(lines))
    exe = tmp_path / "quant"
    subprocess.run(["gcc", "-std=c99", "-Wall", "-Wextra", "-Werror", "-pedantic",
                    *(f"-I{d}" for d in (tmp_path, *runtime_include_dirs())),
                    str(tmp_path / "main.c"), "-o", str(exe)], check=True, capture_output=True)
    out = subprocess.run([str(exe)], check=True, capture_output=True, text=True).stdout.split("\n")
    for row, tensor in zip(out, (model.input, model.output)):
        _, bits, zp, *dims = row.split()
        assert np.uint32(int(bits)).view(np.float32) == np.float32(tensor.quant.scale[0])
        assert int(zp) == tensor.quant.zero_point[0]
        assert tuple(int(d) for d in dims) == tensor.shape


def test_float_literal_round_trips_float32() -> None:
    from tinycompress.codegen.cgen import float_literal

    for value in (1.0, 0.00390625, 1 / 255, 3.4e-9, 123456.789, 2.0 ** -20):
        text = float_literal(value)
        assert text.endswith("f") and ("." in text or "e" in text)
        assert np.float32(text[:-1]) == np.float32(value)


@pytest.mark.parametrize("cc, message", [("false", "fails even on a trivial C program (exit 1: no message)"),
                                         ("/nonexistent/cc", "not found")])
def test_broken_compiler_is_named_not_called_a_bug(small: bytes, tmp_path, monkeypatch, cc: str, message: str) -> None:
    monkeypatch.setenv("CC", cc)
    with pytest.raises(ToolError, match=re.escape(f"C compiler {cc!r} (from CC) {message}")) as info:
        build_host(generate(read_model(small)), tmp_path)
    assert "set CC to a working C compiler" in str(info.value) and "tinycompress bug" not in str(info.value)


def test_bad_generated_c_with_a_working_compiler_is_a_bug(small: bytes, tmp_path) -> None:
    gen = generate(read_model(small))
    broken = dataclasses.replace(gen, files={**gen.files, "model.c": gen.files["model.c"] + "\nnot C at all\n"})
    with pytest.raises(ToolError, match="host build of the generated C failed: .*error.*tinycompress bug"):
        build_host(broken, tmp_path)
