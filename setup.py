"""Build hook: ship the top-level boards/, firmware/ and templates/ inside the package.

The folders stay where the design puts them (the one copy anyone edits); a
wheel carries a copy as ``tinycompress/_data/`` and ``tinycompress.resources``
reads it from there. Everything else is configured in pyproject.toml.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent
DATA_FOLDERS = ("boards", "firmware", "templates")
_IGNORE = shutil.ignore_patterns("__pycache__", "*.py[cod]", ".pio", "*.o")


class BuildPyWithData(build_py):
    """``build_py`` that also copies the data folders to ``tinycompress/_data/``."""

    def run(self) -> None:
        super().run()
        if self.editable_mode:
            return  # an editable install reads the checkout's folders directly
        target = Path(self.build_lib) / "tinycompress" / "_data"
        for name in DATA_FOLDERS:
            shutil.rmtree(target / name, ignore_errors=True)
            shutil.copytree(ROOT / name, target / name, ignore=_IGNORE)


setup(cmdclass={"build_py": BuildPyWithData})
