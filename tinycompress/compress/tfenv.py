"""The one place the compress stage imports TensorFlow.

tfmot only works with the legacy Keras 2 (``tf_keras``), selected by
``TF_USE_LEGACY_KERAS=1`` *before* TensorFlow is first imported.

TensorFlow talks a lot on stderr: C++ log lines (oneDNN notices, CUDA stubs
probing for a GPU, absl's "before InitializeLog" warning) and Python
warnings through absl and the ``tensorflow`` logger. Users see none of it
unless they ask with ``tinycompress --debug`` (``DEBUG_ENV=1``): the C++ log
level is forced to errors-off before the import, banners written to file
descriptor 2 while TF loads are dropped, and the Python loggers keep only
errors. oneDNN is off unless the user turns it on: its notice goes, and float
results do not depend on the CPU's oneDNN kernels.
"""

from __future__ import annotations

import contextlib
import logging
import os
import tempfile
from collections.abc import Iterator

DEBUG_ENV = "TINYCOMPRESS_DEBUG"
_QUIET = os.environ.get(DEBUG_ENV) != "1"

os.environ["TF_USE_LEGACY_KERAS"] = "1"
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
if _QUIET:
    os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"


@contextlib.contextmanager
def native_stderr_dropped() -> Iterator[None]:
    """Silence what native code writes to fd 2 (TF import, the MLIR converter), unless debugging."""
    if not _QUIET:
        yield
        return
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

if _QUIET:
    tf.get_logger().setLevel("ERROR")
    logging.getLogger("absl").setLevel(logging.ERROR)

__all__ = ["tf", "tf_keras", "tfmot"]
