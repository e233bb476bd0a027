"""Opt-in pruning and clustering of DepthwiseConv2D kernels.

tfmot's registries list no weights for DepthwiseConv2D (for clustering
its note says "big unrecoverable accuracy loss"), so by default these
layers stay dense. On request (``depthwise = true`` in ``[prune]`` or
``[cluster]``) each one is swapped for a subclass that names its kernel to
tfmot through the ``PrunableLayer`` / ``ClusterableLayer`` interfaces, and
swapped back after stripping, so saved models hold standard layers only.
"""

from __future__ import annotations

from typing import Any

from tinycompress.compress.tfenv import tf_keras, tfmot


class TunableDepthwiseConv2D(
    tf_keras.layers.DepthwiseConv2D,
    tfmot.sparsity.keras.PrunableLayer,
    tfmot.clustering.keras.ClusterableLayer,
):
    """A DepthwiseConv2D whose kernel tfmot may prune and cluster."""

    def get_prunable_weights(self) -> list[Any]:
        return [self.depthwise_kernel]

    def get_clusterable_weights(self) -> list[tuple[str, Any]]:
        return [("depthwise_kernel", self.depthwise_kernel)]


def tunable(model: Any) -> Any:
    """``model`` with every DepthwiseConv2D made prunable and clusterable (same weights)."""
    return _swap(model, tf_keras.layers.DepthwiseConv2D, TunableDepthwiseConv2D)


def plain(model: Any) -> Any:
    """``model`` with every tunable depthwise layer turned back into a DepthwiseConv2D."""
    return _swap(model, TunableDepthwiseConv2D, tf_keras.layers.DepthwiseConv2D)


def _swap(model: Any, old: type, new: type) -> Any:
    def replace(layer: Any) -> Any:
        if type(layer) is not old:
            return layer
        twin = new.from_config(layer.get_config())
        twin.build(layer.input_shape)
        twin.set_weights(layer.get_weights())
        return twin

    return tf_keras.models.clone_model(model, clone_function=replace)
