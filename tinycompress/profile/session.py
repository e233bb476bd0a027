"""Streaming a test set through the device and collecting what it computes.

A run that loses the device part-way keeps every sample measured so far and
says why it stopped, so the report can be written and marked incomplete.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from tinycompress.errors import DeviceError, LinkError
from tinycompress.link import DeviceInfo, DeviceLink, DeviceStatusError, InvokeResult, LinkStats, Status
from tinycompress.progress import NullProgress, Progress


REBUILD = "rebuild and flash the project (tinycompress build PROJECT && tinycompress flash PROJECT)"


@dataclass(frozen=True)
class SampleResult:
    output: bytes
    latency: int
    layer_ticks: tuple[int, ...] | None


@dataclass
class Measurements:
    """Everything the device reported; ``stopped`` is why a run ended early."""

    info: DeviceInfo
    requested: int
    results: list[SampleResult] = field(default_factory=list)
    stopped: str | None = None
    link: LinkStats = field(default_factory=LinkStats)

    @property
    def complete(self) -> bool:
        return self.stopped is None and len(self.results) == self.requested


def connect(link: DeviceLink, boot_timeout: float = 10.0) -> DeviceInfo:
    """HELLO (waiting for boot) then INFO."""
    link.connect(boot_timeout=boot_timeout)
    return link.info()


def check_device(info: DeviceInfo, url: str, *, input_bytes: int, output_bytes: int,
                 model_hash: str | None) -> None:
    """Refuse to measure firmware built for another model: its figures would be meaningless."""
    rebuild = REBUILD
    if model_hash and info.model_hash and info.model_hash != model_hash:
        raise DeviceError(
            f"the firmware on {url} runs model {info.model_hash[:12]}…, the project's model is "
            f"{model_hash[:12]}…; {rebuild}"
        )
    for what, device, host in (("input", info.input_bytes, input_bytes), ("output", info.output_bytes, output_bytes)):
        if device is not None and device != host:
            raise DeviceError(f"the firmware on {url} has a {device}-byte {what}, the model {host} bytes; {rebuild}")


def invoke_on(link: DeviceLink, data: bytes) -> InvokeResult:
    """SET_INPUT then INVOKE; once more if the device says its input is stale.

    The device refuses (INPUT_STALE) to run on an input that an earlier
    invoke may have overwritten, or that a reboot lost; sending the input
    again is then the only way to a right answer.
    """
    link.set_input(data)
    try:
        return link.invoke()
    except DeviceStatusError as exc:
        if exc.status != Status.INPUT_STALE:
            raise
    link.set_input(data)
    return link.invoke()


def stream(link: DeviceLink, info: DeviceInfo, inputs: np.ndarray, progress: Progress | None = None,
           *, description: str = "streaming to the device") -> Measurements:
    """Send each int8 sample, INVOKE, and read per-layer counts when the firmware has them.

    Link failures and interruptions end the run without raising: the
    measurements so far are returned with ``stopped`` set.
    """
    measured = Measurements(info=info, requested=len(inputs), link=link.stats)
    task = (progress or NullProgress()).task(description, len(inputs))
    try:
        for sample in inputs:
            result = invoke_on(link, np.ascontiguousarray(sample, dtype=np.int8).tobytes())
            ticks = link.layer_profile() if info.profile_layers else None
            measured.results.append(SampleResult(result.output, result.latency, ticks))
            task.advance()
    except (LinkError, DeviceError) as exc:
        measured.stopped = str(exc)
    except KeyboardInterrupt as exc:  # Ctrl-C, or SIGTERM as the CLI delivers it
        measured.stopped = str(exc) or "interrupted by the user"
    finally:
        task.close()
    return measured
