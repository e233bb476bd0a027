"""Where the repository's non-Python parts live (boards, templates, firmware).

tinycompress runs from its source checkout (``pip install -e .``): the
board registry, the templates and the C firmware sit beside the package.
"""

from __future__ import annotations

from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
BOARDS_DIR = REPO_ROOT / "boards"
PLATFORM_DIR = BOARDS_DIR / "platform"
TEMPLATES_DIR = REPO_ROOT / "templates"
FIRMWARE_DIR = REPO_ROOT / "firmware"
PORTS_DIR = FIRMWARE_DIR / "ports"
RUNTIME_DIR = FIRMWARE_DIR / "runtime"
