"""Refuse Keras model files that carry code, before anything deserialises them.

A Keras config can embed Python: a ``Lambda`` layer's marshalled bytecode, a
``__lambda__`` object anywhere in a Keras 3 config, a custom class whose
module Keras would import, a ``TFOpLambda`` naming any TensorFlow function
(``tf.io.write_file`` included). tf_keras runs such code while it loads a
``.h5`` or a SavedModel, so the config is read as plain JSON first (the
``.h5`` ``model_config`` attribute, the ``.keras`` zip's ``config.json``, the
SavedModel's ``keras_metadata.pb``) and every layer is checked against the
classes Keras itself defines. Callers skip this for files the user trusts.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from tinycompress.errors import ModelFormatError, UnsupportedError

_MODEL_CLASSES = frozenset({"Functional", "Sequential", "Model"})
# Objects whose config is Python code (tf_keras ``Lambda``, Keras 3 ``__lambda__``).
_CODE_CLASSES = frozenset({"Lambda", "__lambda__"})
# Layers tf_keras records for ``tf.*`` calls in a functional model; they name a
# TensorFlow function, which is safe only in the pure arithmetic namespaces.
_TF_OP_CLASSES = frozenset({"TFOpLambda", "SlicingOpLambda"})
_SAFE_TF_OP_PREFIXES = ("math.", "nn.", "__operators__.", "linalg.")
_SAFE_TF_OPS = frozenset({
    "reshape", "transpose", "concat", "stack", "expand_dims", "squeeze", "cast",
    "clip_by_value", "identity", "pad", "split", "tile", "reduce_mean", "reduce_sum",
    "reduce_max", "reduce_min", "add", "multiply", "subtract", "maximum", "minimum",
})
_KERAS_MODULES = ("keras", "tf_keras")
_TRUST_HINT = "pass --trust-model (trust_model=True) only if you trust the file"


def check_config(config: Any, source: Path, known_layers: frozenset[str]) -> None:
    """Raise unless the model ``config`` holds only ``known_layers`` and no code.

    ``config`` is the JSON of a whole model (``{"class_name": ..., "config":
    {"layers": [...]}}``) as Keras writes it; nested models are walked too.
    """
    if not isinstance(config, dict) or not isinstance(config.get("class_name"), str):
        raise ModelFormatError(f"{source} has a malformed model config (no class_name); save the model again")
    for spec in _layers(config, source):
        check_layer(spec, source, known_layers)


def check_layer(spec: dict[str, Any], source: Path, known_layers: frozenset[str]) -> None:
    """Raise if one layer spec is a code-carrying or non-Keras layer."""
    cls = spec.get("class_name")
    body = spec.get("config")
    name = (body.get("name") if isinstance(body, dict) else None) or spec.get("name") or "?"
    if cls in _CODE_CLASSES:
        raise UnsupportedError(_refusal(source, name, cls, "carries Python code that would run on load"))
    if cls in _TF_OP_CLASSES:
        function = body.get("function") if isinstance(body, dict) else None
        if not (isinstance(function, str) and _safe_tf_op(function)):
            raise UnsupportedError(_refusal(source, name, cls, f"calls the TensorFlow function {function!r}"))
    elif cls not in known_layers and cls not in _MODEL_CLASSES:
        raise UnsupportedError(_refusal(source, name, cls, "is not a Keras layer (custom code)"))
    # Nested layers are checked on their own; the compile config is never loaded (compile=False).
    own = {k: v for k, v in spec.items() if k != "compile_config"}
    if isinstance(body, dict):
        own["config"] = {k: v for k, v in body.items() if k != "layers"}
    for found, why in _code_inside(own):
        raise UnsupportedError(_refusal(source, name, cls, f"{why} ({found})"))


def layer_classes(layers_module: Any) -> frozenset[str]:
    """The names of the layer classes a Keras ``layers`` module defines (its own, no custom ones)."""
    base = layers_module.Layer
    return frozenset(n for n, v in vars(layers_module).items() if isinstance(v, type) and issubclass(v, base))


def savedmodel_configs(source: Path) -> list[dict[str, Any]]:
    """The layer specs a SavedModel's ``keras_metadata.pb`` records, one per Keras object."""
    from google.protobuf.message import DecodeError
    from tf_keras.protobuf import saved_metadata_pb2

    metadata = saved_metadata_pb2.SavedMetadata()
    try:
        metadata.ParseFromString((source / "keras_metadata.pb").read_bytes())
        nodes = [json.loads(node.metadata) for node in metadata.nodes if node.identifier.startswith("_tf_keras_")
                 and not node.identifier.startswith("_tf_keras_metric")]
    except (OSError, ValueError, DecodeError) as exc:
        raise ModelFormatError(f"{source}/keras_metadata.pb is corrupt ({exc}); save the model again") from None
    configs = []
    for node in nodes:
        if isinstance(node, dict):
            # A network node repeats its whole model config under "model_config".
            whole = node.pop("model_config", None)
            configs += [node] + ([whole] if isinstance(whole, dict) else [])
    return configs


def _layers(config: dict[str, Any], source: Path) -> Iterator[dict[str, Any]]:
    """Every layer spec of a model config, nested models' layers included."""
    yield config
    if config.get("class_name") not in _MODEL_CLASSES:
        return
    body = config.get("config")
    layers = body.get("layers", []) if isinstance(body, dict) else []
    if not isinstance(layers, list):
        raise ModelFormatError(f"{source} has a malformed model config (layers is not a list); save the model again")
    for spec in layers:
        if not isinstance(spec, dict):
            raise ModelFormatError(f"{source} has a malformed layer entry in its config; save the model again")
        yield from _layers(spec, source)


def _code_inside(value: Any) -> Iterator[tuple[str, str]]:
    """Serialized code or custom objects anywhere below a layer's own config."""
    if isinstance(value, dict):
        cls = value.get("class_name")
        if cls in _CODE_CLASSES or "function_type" in value:
            yield "lambda", "carries Python code that would run on load"
        module = value.get("module")
        if isinstance(cls, str) and isinstance(module, str) and module.split(".")[0] not in _KERAS_MODULES:
            yield f"{module}.{cls}", "uses a custom object"
        registered = value.get("registered_name")
        if isinstance(registered, str) and ">" in registered:
            yield registered, "uses a registered custom object"
        for item in value.values():
            yield from _code_inside(item)
    elif isinstance(value, list):
        for item in value:
            yield from _code_inside(item)


def _safe_tf_op(function: str) -> bool:
    return function in _SAFE_TF_OPS or function.startswith(_SAFE_TF_OP_PREFIXES)


def _refusal(source: Path, layer: str, cls: Any, why: str) -> str:
    return (f"{source}: layer {layer} ({cls}) {why}; tinycompress does not run code from a model file: "
            f"replace the layer with builtin Keras layers and save again, or {_TRUST_HINT}")
