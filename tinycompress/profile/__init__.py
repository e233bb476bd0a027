"""Profiling on the device: stream a test set over the serial link, report what it computes.

``profile_project`` is what ``tinycompress profile`` (and ``run``) call;
``profile_link``/``profile_url`` profile any firmware a link reaches, and
``host`` builds the protocol server as a host process (no board needed).
"""

from tinycompress.profile.device import profile_link, profile_url, quantize_inputs
from tinycompress.profile.project import ProfiledProject, device_link, load_project, profile_project
from tinycompress.profile.report import LayerInfo, Target, build_report

__all__ = [
    "LayerInfo",
    "ProfiledProject",
    "Target",
    "build_report",
    "device_link",
    "load_project",
    "profile_link",
    "profile_project",
    "profile_url",
    "quantize_inputs",
]
