"""Load a trained Keras model, whatever format it was saved in, as a tf_keras model.

The format is told from the file's bytes, not its extension: a ``.keras``
zip (Keras 3, or Keras 2 from tf_keras), an HDF5 ``.h5`` (Keras 2, or Keras
3's legacy writer), or a SavedModel directory. Keras 3 files go through the
bridge in :mod:`tinycompress.compress.bridge`.

Model files can carry code (a ``Lambda`` layer, custom objects) that loading
would run, so unless the caller trusts the file its config is checked first
by :mod:`tinycompress.compress.trust`, on every format.
"""

from __future__ import annotations

import json
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tinycompress.compress.tfenv import tf_keras
from tinycompress.compress.trust import check_config, layer_classes, savedmodel_configs
from tinycompress.errors import ModelFormatError, UnsupportedError

_HDF5_MAGIC = b"\x89HDF\r\n\x1a\n"
_ZIP_MAGIC = b"PK\x03\x04"
_DETAIL_LIMIT = 200  # characters of a library's own message quoted in ours
_FORMATS_HINT = "give a .keras file, a Keras .h5 file or a SavedModel directory"
_TF_KERAS_LAYERS = layer_classes(tf_keras.layers)


@dataclass
class LoadedModel:
    model: Any
    source_format: str  # "keras3", "keras2-zip", "keras3-h5", "keras2-h5", "savedmodel"
    bridged: bool

    @property
    def input_shape(self) -> tuple[int, ...]:
        return tuple(int(d) for d in self.model.input_shape[1:])

    @property
    def num_outputs(self) -> int:
        return int(self.model.output_shape[-1])


def load_model(path: str | Path, *, trust_model: bool = False) -> LoadedModel:
    """Load ``path`` as a tf_keras model with a single input and a single output.

    Unless ``trust_model``, a model whose config carries code (``Lambda``,
    custom objects) is refused before anything of it is deserialised.
    """
    source = Path(path)
    if not source.exists():
        raise ModelFormatError(f"model {source} not found; {_FORMATS_HINT}")
    if source.is_dir():
        loaded = _load_savedmodel(source, trust_model)
    else:
        head = source.read_bytes()[:8] if source.stat().st_size else b""
        if head.startswith(_ZIP_MAGIC):
            loaded = _load_zip(source, trust_model)
        elif head.startswith(_HDF5_MAGIC):
            loaded = _load_h5(source, trust_model)
        elif head[4:8] == b"TFL3":
            raise ModelFormatError(
                f"{source} is a .tflite flatbuffer, not a Keras model; compress needs the trained Keras model "
                "(an int8 .tflite can go straight to export)"
            )
        else:
            raise ModelFormatError(f"{source} is not a Keras model (unrecognized file content); {_FORMATS_HINT}")
    _check_io(source, loaded.model)
    return loaded


def _load_zip(source: Path, trust_model: bool) -> LoadedModel:
    try:
        with zipfile.ZipFile(source) as archive:
            names = set(archive.namelist())
            if "config.json" not in names:
                raise ModelFormatError(f"{source} is a zip file but not a .keras model (no config.json); {_FORMATS_HINT}")
            metadata = json.loads(archive.read("metadata.json")) if "metadata.json" in names else {}
            config = json.loads(archive.read("config.json"))
    except (zipfile.BadZipFile, OSError, json.JSONDecodeError, EOFError) as exc:
        raise ModelFormatError(f"{source} is a corrupt .keras file ({_first_line(exc)}); save the model again") from None
    keras3 = str(metadata.get("keras_version", "3")).startswith("3")
    if not trust_model:
        check_config(config, source, _keras3_layers() if keras3 else _TF_KERAS_LAYERS)
    if keras3:
        return LoadedModel(_bridge(_keras3_load(source, trust_model)), "keras3", True)
    return LoadedModel(_tf_keras_load(source, trust_model), "keras2-zip", False)


def _load_h5(source: Path, trust_model: bool) -> LoadedModel:
    import h5py

    try:
        with h5py.File(source, "r") as handle:
            version = handle.attrs.get("keras_version", b"")
            config = handle.attrs.get("model_config")
    except OSError as exc:
        raise ModelFormatError(f"{source} is a corrupt HDF5 file ({_first_line(exc)}); save the model again") from None
    if config is None:
        raise ModelFormatError(
            f"{source} holds weights only (no model config); save the whole model with model.save('model.keras')"
        )
    version = version.decode() if isinstance(version, bytes) else str(version)
    keras3 = version.startswith("3")
    if not trust_model:
        try:
            parsed = json.loads(config.decode() if isinstance(config, bytes) else str(config))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise ModelFormatError(
                f"{source} has a corrupt model config ({_first_line(exc)}); save the model again"
            ) from None
        check_config(parsed, source, _keras3_layers() if keras3 else _TF_KERAS_LAYERS)
    if keras3:
        return LoadedModel(_bridge(_keras3_load(source, trust_model)), "keras3-h5", True)
    return LoadedModel(_tf_keras_load(source, trust_model), "keras2-h5", False)


def _load_savedmodel(source: Path, trust_model: bool) -> LoadedModel:
    if not (source / "saved_model.pb").exists():
        raise ModelFormatError(f"{source} is a directory without saved_model.pb; {_FORMATS_HINT}")
    if not (source / "keras_metadata.pb").exists():
        raise ModelFormatError(
            f"{source} is a SavedModel without Keras metadata (exported, not saved by Keras); "
            "save the Keras model itself with model.save('model.keras')"
        )
    if not trust_model:
        for config in savedmodel_configs(source):
            check_config(config, source, _TF_KERAS_LAYERS)
    return LoadedModel(_tf_keras_load(source, trust_model), "savedmodel", False)


def _keras3_layers() -> frozenset[str]:
    import keras

    return layer_classes(keras.layers)


def _keras3_load(source: Path, trust_model: bool) -> Any:
    import keras

    try:
        return keras.saving.load_model(source, compile=False, safe_mode=not trust_model)
    except Exception as exc:  # Keras raises ValueError, TypeError, OSError, ... on bad files
        raise ModelFormatError(f"Keras 3 cannot load {source} ({_first_line(exc)}); save the model again") from None


def _tf_keras_load(source: Path, trust_model: bool) -> Any:
    try:
        return tf_keras.models.load_model(source, compile=False, safe_mode=not trust_model)
    except Exception as exc:  # tf_keras raises many types on bad or custom models
        raise ModelFormatError(f"tf_keras cannot load {source} ({_first_line(exc)}); save the model again") from None


def _bridge(model: Any) -> Any:
    from tinycompress.compress.bridge import bridge_keras3

    return bridge_keras3(model)


def _check_io(source: Path, model: Any) -> None:
    if not isinstance(model, tf_keras.Model):
        raise ModelFormatError(f"{source} did not load as a Keras model; {_FORMATS_HINT}")
    if len(model.inputs) != 1 or len(model.outputs) != 1:
        raise UnsupportedError(
            f"the model has {len(model.inputs)} inputs and {len(model.outputs)} outputs; "
            "tinycompress handles classifiers with exactly one input and one output"
        )
    if any(d is None for d in model.input_shape[1:]):
        raise UnsupportedError(
            f"the model input shape {model.input_shape} has unknown dimensions; give a fixed input shape (keras.Input(shape=...))"
        )
    if len(model.output_shape) != 2:
        raise UnsupportedError(
            f"the model output shape {model.output_shape} is not (batch, classes); tinycompress compresses classifiers"
        )


def _first_line(exc: BaseException) -> str:
    """The exception's first line, shortened at a sentence (or word) end, never mid-word."""
    text = str(exc).strip()
    if not text:
        return type(exc).__name__
    line = text.splitlines()[0]
    if len(line) <= _DETAIL_LIMIT:
        return line
    sentence = line.rfind(". ", 0, _DETAIL_LIMIT)
    if sentence > 0:
        return line[:sentence + 1]
    word = line.rfind(" ", 0, _DETAIL_LIMIT)
    return line[:word if word > 0 else _DETAIL_LIMIT] + " ..."


def save_model(model: Any, path: Path) -> None:
    """Save a stripped tf_keras model as ``.keras`` (loads back with :func:`load_model`)."""
    model.save(path)
