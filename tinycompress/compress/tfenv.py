"""The one place the compress stage imports TensorFlow.

tfmot only works with the legacy Keras 2 (``tf_keras``), selected by
``TF_USE_LEGACY_KERAS=1`` *before* TensorFlow is first imported. TF's C++
runtime also logs banners (oneDNN, CUDA probing) to file descriptor 2 while
it loads, before any log level applies; they are dropped so the CLI output
stays readable.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator

os.environ["TF_USE_LEGACY_KERAS"] = "1"
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


@contextlib.contextmanager
def native_stderr_dropped() -> Iterator[None]:
    """Silence what native code writes to fd 2 (TF import, the MLIR converter)."""
    saved = os.dup(2)
    with tempfile.TemporaryFile() as sink:
        os.dup2(sink.fileno(), 2)
        try:
            yield
        finally:
            os.dup2(saved, 2)
            os.close(saved)


with native_stderr_dropped():
    import tensorflow as tf
    import tf_keras
    import tensorflow_model_optimization as tfmot

tf.get_logger().setLevel("ERROR")

__all__ = ["tf", "tf_keras", "tfmot"]
