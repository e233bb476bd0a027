"""The profiling report: accuracy, agreement with the host, latency, layers, memory.

``report.json`` keys (docs/protocol.md describes the session): ``board``,
``samples``, ``task``, ``accuracy`` {``device``, ``host_int8``} (classification; for a
regression or autoencoder task ``mse`` and ``mae``, plus ``roc_auc`` with anomaly
labels, from the dequantised outputs), ``outputs_bit_exact``,
``latency`` {``unit``, ``clock_hz``, ``median``, ``p90``, ``min``, ``max``, and
``ms`` when the unit is cycles and the device reported its clock}, ``layers``
[{``name`` (``CONV_2D#0:conv2d``), ``tensor``, ``op``, ``macs``,
``median``, ``share``}], ``flash_bytes``,
``ram_bytes``, ``versions`` (tinycompress, TensorFlow, tflite-micro, compiler,
QEMU: :mod:`tinycompress.versions`), plus ``complete`` and ``stopped`` for a
run that lost the device.

Memory has two sources: the ELF's section sizes (``tinycompress build``)
and what the firmware measured from its linker symbols and sent in INFO.
``memory`` holds both (``elf``, ``device``; ``None`` when unknown);
``flash_bytes``/``ram_bytes`` are the ELF figures when there is an ELF, else
the device's, and ``memory_source`` says which. ``quantization`` is the
input/output shape, scale and zero point as the device reported them.

Milliseconds come from the core clock the device reports in INFO (the one
it set up, or the reset clock it fell back to), never from the board file's
nominal clock: a board that did not reach its rated clock would otherwise
get figures off by that ratio. ``latency.clock_hz`` is ``None`` when the
device does not know it (emulators count instructions) or predates the
record.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from tinycompress.compress.metrics import CLASSIFICATION, metric_names, task_metrics
from tinycompress.link import DeviceInfo, Quant
from tinycompress.profile.session import Measurements
from tinycompress.versions import collect as collect_versions


@dataclass(frozen=True)
class LayerInfo:
    """A layer as reports name it: short readable ``name``, the raw output ``tensor`` name when known."""

    name: str
    op: str
    macs: int
    tensor: str | None = None


@dataclass(frozen=True)
class Target:
    """What the host knows about the firmware it profiles."""

    board: str
    flash_bytes: int | None = None
    ram_bytes: int | None = None
    layers: tuple[LayerInfo, ...] = ()


def _stats(values: np.ndarray) -> dict[str, float]:
    return {
        "median": float(np.median(values)),
        "p90": float(np.percentile(values, 90)),
        "min": float(values.min()),
        "max": float(values.max()),
    }


def _accuracy(outputs: np.ndarray, labels: np.ndarray | None) -> float | None:
    """Top-1 accuracy from int8 outputs (argmax is the same before and after dequantizing)."""
    if labels is None or outputs.size == 0 or outputs.shape[1] < 2:
        return None
    return float(np.mean(outputs.argmax(axis=1) == labels))


def _scores(task: str, outputs: np.ndarray, targets: np.ndarray | None, output_quant: Quant | None,
            anomaly: np.ndarray | None) -> dict[str, float | None]:
    """A regression or autoencoder model's metrics from its int8 outputs, dequantised with the output's scale."""
    names = metric_names(task, anomaly is not None)
    if targets is None or output_quant is None or outputs.size == 0:
        return dict.fromkeys(names)
    floats = (outputs.astype(np.float64) - output_quant.zero_point) * output_quant.scale
    return task_metrics(task, floats, targets, anomaly)


def _metrics(task: str, device: np.ndarray, host: np.ndarray, targets: np.ndarray | None,
             output_quant: Quant | None, anomaly: np.ndarray | None) -> dict[str, dict[str, float | None]]:
    """The task's metrics on the device and on the host int8 model, keyed by metric name."""
    if task == CLASSIFICATION:
        return {"accuracy": {"device": _accuracy(device, targets), "host_int8": _accuracy(host, targets)}}
    found = {"device": _scores(task, device, targets, output_quant, anomaly),
             "host_int8": _scores(task, host, targets, output_quant, anomaly)}
    return {name: {where: found[where][name] for where in found} for name in found["device"]}


def build_report(target: Target, measured: Measurements, *, labels: np.ndarray | None,
                 host_outputs: np.ndarray, url: str, task: str = CLASSIFICATION,
                 output_quant: Quant | None = None, anomaly: np.ndarray | None = None) -> dict[str, Any]:
    """Combine the device's figures with the host reference into one report dict.

    ``host_outputs`` are the TFLM interpreter's int8 outputs for the same
    samples, in order (at least as many as were measured). For a regression
    or autoencoder ``task``, ``labels`` are the float targets and the metrics
    (``mse``, ``mae``, ``roc_auc`` with ``anomaly`` labels) come from the
    outputs dequantised with ``output_quant``, the model's output scale.
    """
    n = len(measured.results)
    device = _rows([np.frombuffer(r.output, np.int8) for r in measured.results])
    host = _rows(np.asarray(host_outputs, np.int8)[:n])
    mismatched = [i for i in range(n) if not np.array_equal(device[i], host[i])]
    measured_labels = None if labels is None else np.asarray(labels)[:n]
    measured_anomaly = None if anomaly is None else np.asarray(anomaly)[:n]
    info = measured.info
    unit = info.timer_unit or "counts"

    clock_hz = info.core_clock_hz or None
    latency: dict[str, Any] = {"unit": unit, "clock_hz": clock_hz}
    if n:
        stats = _stats(np.array([r.latency for r in measured.results], np.float64))
        latency.update(stats)
        if unit == "cycles" and clock_hz:
            latency["ms"] = {k: v * 1000.0 / clock_hz for k, v in stats.items()}

    return {
        "board": target.board,
        "device_board": info.board,
        "port": url,
        "complete": measured.complete,
        "stopped": measured.stopped,
        "samples": n,
        "samples_requested": measured.requested,
        "task": task,
        **_metrics(task, device, host, measured_labels, output_quant, measured_anomaly),
        "outputs_bit_exact": bool(n) and not mismatched,
        "mismatched_samples": mismatched,
        "latency": latency,
        "layers": _layer_table(target, measured, unit),
        **_memory(target, info),
        "arena_bytes": info.arena_bytes,
        "quantization": {"input": _tensor(info.input_shape, info.input_quant),
                         "output": _tensor(info.output_shape, info.output_quant)},
        "model_hash": info.model_hash,
        "link": asdict(measured.link),
        # the project layer adds the compiler and QEMU it knows of (profile_project)
        "versions": collect_versions(),
    }


def _rows(outputs: Any) -> np.ndarray:
    """One flat int8 row per sample; a run that measured nothing gives a 0 x 0 array, not a reshape error."""
    if len(outputs) == 0:
        return np.zeros((0, 0), np.int8)
    return np.array([np.ravel(output) for output in outputs], np.int8)


def _memory(target: Target, info: DeviceInfo) -> dict[str, Any]:
    elf = device = None
    if target.flash_bytes is not None or target.ram_bytes is not None:
        elf = {"flash_bytes": target.flash_bytes, "ram_bytes": target.ram_bytes}
    if info.flash_bytes is not None or info.ram_bytes is not None:
        device = {"flash_bytes": info.flash_bytes, "ram_bytes": info.ram_bytes}
    chosen, source = (elf, "elf") if elf else (device, "device") if device else ({}, None)
    return {
        "flash_bytes": chosen.get("flash_bytes"),
        "ram_bytes": chosen.get("ram_bytes"),
        "memory_source": source,
        "memory": {"elf": elf, "device": device},
    }


def _tensor(shape: tuple[int, ...] | None, quant: Quant | None) -> dict[str, Any] | None:
    if shape is None and quant is None:
        return None
    return {
        "shape": None if shape is None else list(shape),
        "scale": None if quant is None else quant.scale,
        "zero_point": None if quant is None else quant.zero_point,
    }


def _layer_table(target: Target, measured: Measurements, unit: str) -> list[dict[str, Any]]:
    ticks = [r.layer_ticks for r in measured.results if r.layer_ticks is not None]
    if not ticks:
        return []
    per_layer = np.median(np.array(ticks, np.float64), axis=0)
    total = float(per_layer.sum()) or 1.0
    layers = list(target.layers)
    if len(layers) != len(per_layer):  # names unknown to the host: number the layers
        layers = [LayerInfo(f"layer_{i}", "?", 0) for i in range(len(per_layer))]
    return [
        {
            "name": layer.name,
            "tensor": layer.tensor,
            "op": layer.op,
            "macs": layer.macs,
            "median": float(median),
            "unit": unit,
            "share": float(median) / total,
            "macs_per_unit": (layer.macs / float(median)) if median else None,
        }
        for layer, median in zip(layers, per_layer)
    ]
