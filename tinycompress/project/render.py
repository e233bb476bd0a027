"""Render ``templates/`` into a project tree.

The templates folder mirrors the output: ``templates/src/main.c.j2`` becomes
``src/main.c``. A template that renders to nothing but whitespace is not
written; that is how board-specific files (``memory.ld``, ``CMakeLists.txt``)
opt out for boards that do not use them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import jinja2

from tinycompress.resources import templates_dir

SUFFIX = ".j2"


def render_tree(target: Path, context: dict[str, Any], templates: Path | None = None) -> list[Path]:
    """Render every ``*.j2`` under ``templates`` (default: the installed ones) into ``target``."""
    templates = templates_dir() if templates is None else templates
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(templates)),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
        autoescape=False,
    )
    written = []
    for source in sorted(templates.rglob(f"*{SUFFIX}")):
        relative = source.relative_to(templates)
        text = env.get_template(relative.as_posix()).render(context)
        if not text.strip():
            continue
        out = target / relative.with_suffix("")
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(text.lstrip("\n"), encoding="utf-8")
        written.append(out)
    return written
