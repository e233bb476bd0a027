"""Keras 3 → tf_keras: rebuild the architecture from the Keras 3 config, copy the weights.

tfmot needs ``tf_keras`` models, and ``tf_keras`` cannot read Keras 3 files
(``InputLayer(batch_shape=...)`` and the new serialization format). The
layers TinyML models use have the same constructor arguments and the same
weight order in both libraries, so each layer's config is normalized (dtype
policies, serialized initializers), handed to the ``tf_keras`` class of the
same name, and the graph is re-wired from the config's ``inbound_nodes``.
"""

from __future__ import annotations

from typing import Any

from tinycompress.compress.tfenv import tf_keras
from tinycompress.errors import ModelFormatError, UnsupportedError

SUPPORTED_LAYERS: tuple[str, ...] = (
    "InputLayer",
    "Conv1D", "Conv2D", "DepthwiseConv1D", "DepthwiseConv2D", "SeparableConv1D", "SeparableConv2D",
    "Dense", "BatchNormalization",
    "Activation", "ReLU", "LeakyReLU", "Softmax",
    "MaxPooling1D", "MaxPooling2D", "AveragePooling1D", "AveragePooling2D",
    "GlobalAveragePooling1D", "GlobalAveragePooling2D", "GlobalMaxPooling1D", "GlobalMaxPooling2D",
    "Flatten", "Reshape", "Permute", "Dropout", "SpatialDropout1D", "SpatialDropout2D",
    "Add", "Subtract", "Multiply", "Average", "Maximum", "Minimum", "Concatenate",
    "ZeroPadding1D", "ZeroPadding2D", "Cropping1D", "Cropping2D", "UpSampling1D", "UpSampling2D",
    "Rescaling",
)

# Keras 3 spellings of arguments tf_keras names differently.
_RENAMED_ARGS: dict[str, dict[str, str]] = {"LeakyReLU": {"negative_slope": "alpha"}}
# Keras 3 additions that are harmless when unset (None or default).
_KERAS3_ONLY_ARGS: dict[str, Any] = {"quantization_config": None, "lora_rank": None, "lora_alpha": None}


def bridge_keras3(model: Any) -> Any:
    """Return a ``tf_keras`` functional model equivalent to the Keras 3 ``model``."""
    config = model.get_config()
    layers = config.get("layers")
    if not isinstance(layers, list):
        raise UnsupportedError(
            f"model class {type(model).__name__} is neither Sequential nor functional; "
            "rebuild it with keras.Sequential or the functional API and save it again"
        )
    if "inbound_nodes" in (layers[0] if layers else {}) or "input_layers" in config:
        rebuilt = _functional(config)
    else:
        rebuilt = _sequential(config)
    _copy_weights(model, rebuilt)
    return rebuilt


def _functional(config: dict[str, Any]) -> Any:
    outputs: dict[tuple[str, int], list[Any]] = {}
    pending = list(config["layers"])
    while pending:
        progressed = []
        for spec in pending:
            if _wire(spec, outputs):
                progressed.append(spec)
        if not progressed:
            names = ", ".join(s["config"].get("name", "?") for s in pending)
            raise ModelFormatError(f"the model graph cannot be rebuilt (unresolved inputs for {names}); save the model again")
        pending = [s for s in pending if s not in progressed]
    inputs = [_tensor(outputs, ref) for ref in _refs(config["input_layers"])]
    results = [_tensor(outputs, ref) for ref in _refs(config["output_layers"])]
    return tf_keras.Model(_single(inputs), _single(results), name=config.get("name"))


def _wire(spec: dict[str, Any], outputs: dict[tuple[str, int], list[Any]]) -> bool:
    """Call the rebuilt layer on its inputs; False while an input is not built yet."""
    name = spec["config"]["name"]
    if spec["class_name"] == "InputLayer":
        outputs[(name, 0)] = [_input(spec["config"])]
        return True
    nodes = spec.get("inbound_nodes", [])
    if any(not _ready(node, outputs) for node in nodes):
        return False
    layer = _layer(spec)
    for index, node in enumerate(nodes):
        args = [_resolve(a, outputs) for a in node.get("args", [])]
        # Keras 3 records call defaults (mask=None, training=False); they add nothing.
        kwargs = {k: v for k, v in node.get("kwargs", {}).items() if v not in (None, False)}
        if kwargs:
            raise UnsupportedError(
                f"layer {name} is called with arguments {sorted(kwargs)}, which the Keras 3 bridge does not carry over; "
                "call it without them"
            )
        result = layer(*args)
        outputs[(name, index)] = list(result) if isinstance(result, (list, tuple)) else [result]
    return True


def _sequential(config: dict[str, Any]) -> Any:
    specs = list(config["layers"])
    if specs and specs[0]["class_name"] == "InputLayer":
        x = _input(specs.pop(0)["config"])
    elif config.get("build_input_shape"):
        x = tf_keras.Input(batch_shape=tuple(config["build_input_shape"]))
    else:
        raise ModelFormatError("the Sequential model was never built, so its input shape is unknown; build or fit it before saving")
    inputs = x
    for spec in specs:
        x = _layer(spec)(x)
    return tf_keras.Model(inputs, x, name=config.get("name"))


def _input(config: dict[str, Any]) -> Any:
    shape = config.get("batch_shape") or config.get("batch_input_shape")
    if shape is None:
        raise ModelFormatError(f"input {config.get('name')} has no shape; save the model with a fixed input shape")
    return tf_keras.Input(batch_shape=tuple(shape), name=config["name"], dtype=_dtype(config.get("dtype")))


def _layer(spec: dict[str, Any]) -> Any:
    cls_name = spec["class_name"]
    config = dict(spec["config"])
    name = config.get("name", "?")
    if cls_name in ("Functional", "Sequential", "Model"):
        raise UnsupportedError(f"layer {name} is a nested model; flatten it into one Sequential or functional model")
    if cls_name not in SUPPORTED_LAYERS or spec.get("module", "keras.layers") != "keras.layers":
        raise UnsupportedError(
            f"layer {name} ({cls_name}) is not supported by the Keras 3 bridge; supported layers: "
            f"{', '.join(SUPPORTED_LAYERS)}; replace it, or save the model with tf_keras as .h5"
        )
    for key, default in _KERAS3_ONLY_ARGS.items():
        if key in config:
            if config[key] != default:
                raise UnsupportedError(f"layer {name} uses Keras 3's {key}; remove it before compressing")
            del config[key]
    for old, new in _RENAMED_ARGS.get(cls_name, {}).items():
        if old in config:
            config[new] = config.pop(old)
    # Initializers are irrelevant (the weights are copied) and their Keras 3
    # configs carry arguments tf_keras lacks, so the defaults stand in.
    config = {k: _normalize(k, v, name) for k, v in config.items() if not k.endswith("initializer")}
    try:
        return getattr(tf_keras.layers, cls_name).from_config(config)
    except (TypeError, ValueError) as exc:
        raise UnsupportedError(
            f"layer {name} ({cls_name}) has options tf_keras cannot rebuild ({str(exc).splitlines()[0]}); "
            "use the layer's standard options"
        ) from None


def _normalize(key: str, value: Any, layer: str) -> Any:
    """Keras 3 serialized objects → what tf_keras's from_config expects."""
    if key == "dtype":
        return _dtype(value)
    if key.endswith("activation") or key == "activation":
        if not isinstance(value, str):
            raise UnsupportedError(f"layer {layer} uses a custom activation; use a builtin one (relu, softmax, ...)")
        return value
    if isinstance(value, dict) and "class_name" in value:
        if value.get("module", "keras").split(".")[0] != "keras":
            raise UnsupportedError(f"layer {layer} uses the custom object {value['class_name']} for {key}; use a builtin one")
        return {"class_name": value["class_name"], "config": value.get("config", {})}
    return value


def _dtype(value: Any) -> str:
    if isinstance(value, dict):
        value = value.get("config", {}).get("name", "float32")
    if value not in (None, "float32"):
        raise UnsupportedError(f"dtype policy {value!r} is not supported; save the model with float32 weights")
    return "float32"


def _ready(node: dict[str, Any], outputs: dict[tuple[str, int], list[Any]]) -> bool:
    return all((h[0], h[1]) in outputs for h in _histories(node.get("args", [])))


def _histories(value: Any) -> list[list[Any]]:
    if isinstance(value, dict) and value.get("class_name") == "__keras_tensor__":
        return [value["config"]["keras_history"]]
    if isinstance(value, (list, tuple)):
        return [h for item in value for h in _histories(item)]
    return []


def _resolve(value: Any, outputs: dict[tuple[str, int], list[Any]]) -> Any:
    if isinstance(value, dict) and value.get("class_name") == "__keras_tensor__":
        layer, node, index = value["config"]["keras_history"]
        return outputs[(layer, node)][index]
    if isinstance(value, (list, tuple)):
        return [_resolve(v, outputs) for v in value]
    return value


def _refs(value: Any) -> list[list[Any]]:
    """``[name, node, tensor]`` or a list of them → a list of them."""
    return [value] if value and isinstance(value[0], str) else list(value)


def _tensor(outputs: dict[tuple[str, int], list[Any]], ref: list[Any]) -> Any:
    return outputs[(ref[0], ref[1])][ref[2]]


def _single(tensors: list[Any]) -> Any:
    return tensors[0] if len(tensors) == 1 else tensors


def _copy_weights(source: Any, target: Any) -> None:
    for layer in target.layers:
        if not layer.weights:
            continue
        weights = source.get_layer(layer.name).get_weights()
        try:
            layer.set_weights(weights)
        except ValueError as exc:
            raise ModelFormatError(
                f"weights of layer {layer.name} do not fit the rebuilt layer ({str(exc).splitlines()[0]}); "
                "the file may be corrupt, save the model again"
            ) from None
