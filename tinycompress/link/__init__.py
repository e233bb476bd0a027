"""Serial link to a device running the tinycompress protocol (``docs/protocol.md``)."""

from tinycompress.link.client import (
    DEFAULT_BAUDRATE,
    DeviceLink,
    DeviceStatusError,
    LinkDisconnected,
    LinkStats,
    open_link,
)
from tinycompress.link.protocol import PROTOCOL_VERSION, Command, DeviceInfo, InvokeResult, Quant, Status

__all__ = [
    "DEFAULT_BAUDRATE",
    "PROTOCOL_VERSION",
    "Command",
    "DeviceInfo",
    "DeviceLink",
    "DeviceStatusError",
    "InvokeResult",
    "LinkDisconnected",
    "LinkStats",
    "Quant",
    "Status",
    "open_link",
]
