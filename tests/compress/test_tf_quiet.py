"""A user's terminal shows no TensorFlow or absl log lines unless ``--debug`` asks for them."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.host

# C++ log lines (I0000/W0000/E0000 ...), absl's pre-init warning, oneDNN and CUDA probing, Python warnings.
NOISE = re.compile(r"^[IWE]\d{4} |absl::InitializeLog|oneDNN|cuda|cuInit|WARNING:(absl|tensorflow)", re.M | re.I)
CLI = "import sys; from tinycompress.cli import main; sys.argv = ['tinycompress'] + sys.argv[1:]; main()"


@pytest.fixture(scope="module")
def keras2_h5(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from tinycompress.compress.tfenv import tf_keras

    layers = tf_keras.layers
    tf_keras.utils.set_random_seed(0)
    inputs = layers.Input((8, 8, 1))
    x = layers.Flatten()(layers.Conv2D(4, 3, activation="relu", name="conv")(inputs))
    model = tf_keras.Model(inputs, layers.Dense(10, activation="softmax", name="fc")(x))
    model.compile("adam", "sparse_categorical_crossentropy")
    path = tmp_path_factory.mktemp("quiet") / "m.h5"
    model.save(path)
    return path


def _compress(tmp_path: Path, model: Path, *debug: str) -> subprocess.CompletedProcess[str]:
    recipe = tmp_path / "recipe.toml"
    recipe.write_text("[prune]\ntarget_sparsity = 0\n[cluster]\nclusters = 0\n[quantize]\ncalibration_samples = 20\n")
    out = tmp_path / ("out-debug" if debug else "out")
    # a user whose environment asks TensorFlow for every log line
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "0"}
    env.pop("TINYCOMPRESS_DEBUG", None)
    return subprocess.run([sys.executable, "-c", CLI, *debug, "compress", str(model), "--data", "digits",
                           "--recipe", str(recipe), "-o", str(out), "--quiet"],
                          capture_output=True, text=True, env=env, timeout=600)


def test_compress_stderr_is_silent_and_debug_shows_tensorflow_logs(tmp_path: Path, keras2_h5: Path) -> None:
    plain = _compress(tmp_path, keras2_h5)
    assert plain.returncode == 0, plain.stderr
    assert not NOISE.search(plain.stderr), plain.stderr
    assert plain.stderr == ""
    debug = _compress(tmp_path, keras2_h5, "--debug")
    assert debug.returncode == 0, debug.stderr
    assert NOISE.search(debug.stderr), "--debug should let TensorFlow's own log lines through"
