"""Weight clustering with fine-tuning (tfmot), then stripping the wrappers.

tfmot clusters each layer's kernel as a whole (one codebook per layer), so
after per-channel int8 quantization every output channel holds at most
``clusters`` distinct values. Its registry leaves some kernels out on
purpose (DepthwiseConv2D: "big unrecoverable accuracy loss"; only the
pointwise half of SeparableConv); those layers are reported as not
clustered, unless ``depthwise = true`` opts DepthwiseConv2D in.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from tinycompress.compress import depthwise
from tinycompress.compress.data import Dataset
from tinycompress.compress.distill import SoftTargets
from tinycompress.compress.recipe import ClusterConfig, FinetuneConfig
from tinycompress.compress.tfenv import tf_keras, tfmot
from tinycompress.compress.train import KeepZeros, finetune, zero_masks
from tinycompress.progress import Progress

_INITS = {
    "kmeans++": "KMEANS_PLUS_PLUS",
    "linear": "LINEAR",
    "density": "DENSITY_BASED",
    "random": "RANDOM",
}


def cluster(
    model: Any,
    data: Dataset,
    config: ClusterConfig,
    finetune_config: FinetuneConfig,
    *,
    from_logits: bool,
    progress: Progress,
    teacher: SoftTargets | None = None,
) -> tuple[Any, dict[str, list[str]], list[str]]:
    """Cluster and fine-tune ``model``.

    Returns the stripped model; per clustered layer, the names of the
    weights tfmot actually clustered (``kernel``, ``pointwise_kernel``, ...);
    and one note per layer left unclustered (too small, or a kind tfmot
    cannot cluster).
    """
    init = getattr(tfmot.clustering.keras.CentroidInitialization, _INITS[config.init])
    notes: list[str] = []

    def wrap(layer: Any) -> Any:
        reason = _too_small(layer, config)
        if reason:
            notes.append(f"layer {layer.name} left unclustered: {reason}")
            return layer
        if not layer.trainable_weights:
            return layer
        try:
            return tfmot.clustering.keras.cluster_weights(
                layer, number_of_clusters=config.clusters, cluster_centroids_init=init,
                preserve_sparsity=config.preserve_sparsity,
            )
        except ValueError:  # tfmot's answer for a layer kind it has no clustering rule for
            notes.append(f"layer {layer.name} left unclustered: tfmot cannot cluster {type(layer).__name__}")
            return layer

    if config.depthwise:
        model = depthwise.tunable(model)
    wrapped = tf_keras.models.clone_model(model, clone_function=wrap)
    # tfmot's wrapper keeps one centroid variable per weight it really clusters.
    clustered = {
        layer.layer.name: sorted(layer.cluster_centroids)
        for layer in wrapped.layers
        if getattr(layer, "cluster_centroids", None)
    }
    unclustered = [layer for layer in wrapped.layers if not getattr(layer, "cluster_centroids", None)]
    finetune(wrapped, data, finetune_config, from_logits=from_logits, progress=progress,
             description="cluster + fine-tune", callbacks=[KeepZeros(zero_masks(unclustered))], teacher=teacher)
    stripped = tfmot.clustering.keras.strip_clustering(wrapped)
    return (depthwise.plain(stripped) if config.depthwise else stripped), clustered, notes


def _too_small(layer: Any, config: ClusterConfig) -> str | None:
    """Why tfmot's centroid initialization would fail on this layer, if it would.

    With ``preserve_sparsity`` tfmot pins one centroid to zero and splits
    the others between negative and positive weights in proportion to
    their counts; each side needs at least as many weights as centroids.
    """
    for weight in layer.weights:
        name = weight.name.split("/")[-1].split(":")[0]
        if "kernel" not in name or (name == "depthwise_kernel" and not config.depthwise):
            continue
        values = weight.numpy().ravel()
        if len(np.unique(values)) <= config.clusters:
            return f"{name} already holds at most {config.clusters} distinct values"
        if not config.preserve_sparsity:
            continue
        negative, positive = int(np.sum(values < 0)), int(np.sum(values > 0))
        want_negative = int(np.round((config.clusters - 1) * negative / (negative + positive)))
        if want_negative > negative or config.clusters - 1 - want_negative > positive:
            return (f"{name} has {negative} negative and {positive} positive weights, "
                    f"too few for {config.clusters} clusters")
    return None
