"""HTML reports with plots for the report.json files that compress, profile and run write.

The last stage: it reads what the others wrote and is imported only by the
CLI and by the glue that writes a report.json (``run.py``, ``tinycompress
profile``, ``tinycompress compress``), which put the HTML beside it.
"""

from __future__ import annotations

from tinycompress.report.html import html_path, load_report, render_file, render_html, write_html_beside
from tinycompress.report.kinds import KINDS, ReportKind, detect_kind

__all__ = ["KINDS", "ReportKind", "detect_kind", "html_path", "load_report", "render_file", "render_html",
           "write_html_beside"]
