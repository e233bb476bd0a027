"""The TFLM oracle only ever sees verified bytes, and a crash inside TFLM is a clean error."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import flatbuffers
import numpy as np
import pytest

from tinycompress.errors import ModelFormatError
from tinycompress.oracle import TflmOracle, preflight

pytestmark = pytest.mark.host

_CLI = "import sys; from tinycompress.cli import main; sys.argv = ['tinycompress'] + sys.argv[1:]; main()"


@pytest.fixture(scope="module")
def small() -> bytes:
    import keras_int8

    return keras_int8.convert_int8(keras_int8.small_cnn())


def _edited(data: bytes, edit: Callable[[object], None]) -> bytes:
    """Re-pack ``data`` after ``edit`` changed its object-API tree (a targeted corruption)."""
    from tflite_micro.tensorflow.lite.micro.python import schema_py_generated

    model = schema_py_generated.ModelT.InitFromPackedBuf(bytearray(data), 0)
    edit(model)
    builder = flatbuffers.Builder(1024)
    builder.Finish(model.Pack(builder), file_identifier=b"TFL3")
    return bytes(builder.Output())


def _wild_buffer(small: bytes) -> bytes:
    """A weight tensor pointing at buffer 500 of 16: TFLM reads wild memory and dies with SIGSEGV."""
    return _edited(small, lambda m: setattr(m.subgraphs[0].tensors[3], "buffer", 500))


@pytest.mark.parametrize("command", [
    ["verify", "{model}", "--data", "{data}"],
    ["verify", "{model}"],
    ["inspect", "{model}"],
    ["export", "{model}", "--board", "qemu-riscv32", "-o", "{out}"],
])
def test_commands_reject_a_crashing_model_before_tflm(tmp_path: Path, small: bytes, command: list[str]) -> None:
    """Run as a real process: before the fix ``verify --data`` died with SIGSEGV (exit 139)."""
    model = tmp_path / "wild.tflite"
    model.write_bytes(_wild_buffer(small))
    rng = np.random.default_rng(0)
    data = tmp_path / "d.npz"
    np.savez(data, x_train=rng.random((4, 12, 12, 3), np.float32), y_train=np.arange(4),
             x_test=rng.random((4, 12, 12, 3), np.float32), y_test=np.arange(4))
    args = [a.format(model=model, data=data, out=tmp_path / "out") for a in command]
    proc = subprocess.run([sys.executable, "-c", _CLI, *args], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 2, (proc.returncode, proc.stderr)
    assert f"{model} is corrupt: tensor 3" in proc.stderr and "refers to buffer 500" in proc.stderr
    assert proc.stderr.count("\n") == 1 and not (tmp_path / "out").exists()


def test_oracle_verifies_the_bytes_itself(small: bytes) -> None:
    """TFLM accepts a zero point of 300 and computes garbage with it; the oracle must refuse it."""
    bad = _edited(small, lambda m: setattr(m.subgraphs[0].tensors[7].quantization, "zeroPoint", np.array([300])))
    with pytest.raises(ModelFormatError, match=r"zero point 300 outside \[-128, 127\]"):
        TflmOracle(bad)
    with pytest.raises(ModelFormatError, match=r"^m.tflite is corrupt: tensor 3 .* refers to buffer 500"):
        TflmOracle(_wild_buffer(small), what="m.tflite")


def test_a_crash_inside_tflm_is_a_clean_error(small: bytes) -> None:
    """The preflight child takes the SIGSEGV; this process lives on and gets an error naming the signal."""
    with pytest.raises(ModelFormatError, match=r"TFLM interpreter crashed on this model \(SIGSEGV\)") as info:
        preflight(_wild_buffer(small), 1 << 20)
    assert "\n" not in str(info.value)
    preflight(small, 1 << 20)
    oracle = TflmOracle(small)
    assert oracle.run(np.zeros(oracle.input.shape, np.int8)).shape == oracle.output.shape


def test_a_verified_model_that_crashes_tflm_is_a_clean_error(tmp_path: Path, small: bytes) -> None:
    """An input 4099 channels deep before a 3-channel conv passes our verifier; TFLM dies of SIGFPE on it.

    Found by running the fuzz mutants through the oracle. Run in a child, so a regression fails the test
    (exit -8) instead of killing pytest.
    """
    def deepen(model) -> None:
        graph = model.subgraphs[0]
        graph.tensors[graph.inputs[0]].shape = np.array([1, 12, 12, 4099], np.int32)

    path = tmp_path / "deep.tflite"
    path.write_bytes(_edited(small, deepen))
    script = ("import sys, numpy as np; from pathlib import Path; from tinycompress.errors import TinyCompressError;"
              "from tinycompress.oracle import TflmOracle\n"
              "try:\n    o = TflmOracle(Path(sys.argv[1]).read_bytes()); o.run(np.zeros(o.input.shape, np.int8))\n"
              "except TinyCompressError as exc:\n    print(exc)\n")
    proc = subprocess.run([sys.executable, "-c", script, str(path)], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, (proc.returncode, proc.stderr)
    assert "the TFLM interpreter crashed on this model (SIGFPE)" in proc.stdout


def test_io_quantization_from_our_ir_is_what_tflm_reports(small: bytes) -> None:
    """``verify --data`` quantizes with the IR's figures so that TFLM first runs after codegen's checks."""
    from tinycompress.oracle import TensorQuant
    from tinycompress.tflite import read_model

    model, oracle = read_model(small), TflmOracle(small)
    assert (TensorQuant.of(model.input), TensorQuant.of(model.output)) == (oracle.input, oracle.output)
