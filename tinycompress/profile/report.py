"""The profiling report: accuracy, agreement with the host, latency, layers, memory.

``report.json`` keys (docs/protocol.md describes the session): ``board``,
``samples``, ``accuracy`` {``device``, ``host_int8``}, ``outputs_bit_exact``,
``latency`` {``unit``, ``median``, ``p90``, ``min``, ``max``}, ``layers``
[{``name``, ``op``, ``macs``, ``median``, ``share``}], ``flash_bytes``,
``ram_bytes``, plus ``complete`` and ``stopped`` for a run that lost the device.

Memory has two sources: the ELF's section sizes (``tinycompress build``)
and what the firmware measured from its linker symbols and sent in INFO.
``memory`` holds both (``elf``, ``device``; ``None`` when unknown);
``flash_bytes``/``ram_bytes`` are the ELF figures when there is an ELF, else
the device's, and ``memory_source`` says which. ``quantization`` is the
input/output shape, scale and zero point as the device reported them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from tinycompress.link import DeviceInfo, Quant
from tinycompress.profile.session import Measurements


@dataclass(frozen=True)
class LayerInfo:
    name: str
    op: str
    macs: int


@dataclass(frozen=True)
class Target:
    """What the host knows about the firmware it profiles."""

    board: str
    clock_hz: int | None = None
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


def build_report(target: Target, measured: Measurements, *, labels: np.ndarray | None,
                 host_outputs: np.ndarray, url: str) -> dict[str, Any]:
    """Combine the device's figures with the host reference into one report dict.

    ``host_outputs`` are the TFLM interpreter's int8 outputs for the same
    samples, in order (at least as many as were measured).
    """
    n = len(measured.results)
    device = np.array([np.frombuffer(r.output, np.int8) for r in measured.results], np.int8).reshape(n, -1)
    host = np.asarray(host_outputs, np.int8).reshape(len(host_outputs), -1)[:n]
    mismatched = [i for i in range(n) if not np.array_equal(device[i], host[i])]
    measured_labels = None if labels is None else np.asarray(labels)[:n]
    info = measured.info
    unit = info.timer_unit or "counts"

    latency: dict[str, Any] = {"unit": unit}
    if n:
        latency.update(_stats(np.array([r.latency for r in measured.results], np.float64)))
        if unit == "cycles" and target.clock_hz:
            latency["ms"] = {k: v * 1000.0 / target.clock_hz for k, v in _stats(
                np.array([r.latency for r in measured.results], np.float64)).items()}
            latency["clock_hz"] = target.clock_hz

    return {
        "board": target.board,
        "device_board": info.board,
        "port": url,
        "complete": measured.complete,
        "stopped": measured.stopped,
        "samples": n,
        "samples_requested": measured.requested,
        "accuracy": {
            "device": _accuracy(device, measured_labels),
            "host_int8": _accuracy(host, measured_labels),
        },
        "outputs_bit_exact": bool(n) and not mismatched,
        "mismatched_samples": mismatched,
        "latency": latency,
        "layers": _layer_table(target, measured, unit),
        **_memory(target, info),
        "arena_bytes": info.arena_bytes,
        "quantization": {"input": _tensor(info.input_shape, info.input_quant),
                         "output": _tensor(info.output_shape, info.output_quant)},
        "model_hash": info.model_hash,
        "link": {
            "requests": measured.link.requests,
            "retries": measured.link.retries,
            "corrupted_frames": measured.link.corrupted_frames,
            "stale_frames": measured.link.stale_frames,
            "nacks": measured.link.nacks,
        },
    }


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
            "op": layer.op,
            "macs": layer.macs,
            "median": float(median),
            "unit": unit,
            "share": float(median) / total,
            "macs_per_unit": (layer.macs / float(median)) if median else None,
        }
        for layer, median in zip(layers, per_layer)
    ]
