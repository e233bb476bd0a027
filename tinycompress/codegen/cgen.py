"""Tiny, pure helpers that print C: identifiers, arrays, initializers.

Everything here returns text; nothing knows about models, so the emitter
stays readable and every generated line stays under ``MAX_LINE`` columns.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from tinycompress.errors import InputError

MAX_LINE = 100
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,47}")
_C_KEYWORDS = frozenset(
    "auto break case char const continue default do double else enum extern float for goto if "
    "inline int long register restrict return short signed sizeof static struct switch typedef "
    "union unsigned void volatile while".split()
)
_UNSAFE = re.compile(r"[^A-Za-z0-9_.:;,+=<>() -]")
_CTYPES = {"int8": "int8_t", "int32": "int32_t", "int16": "int16_t", "uint8": "uint8_t",
           "uint32": "uint32_t"}


@dataclass(frozen=True)
class Raw:
    """A C expression emitted verbatim (a symbol name, a macro, an address)."""

    text: str


def check_prefix(prefix: str) -> str:
    """Validate a symbol prefix: a C identifier that is not a keyword."""
    if not _IDENTIFIER.fullmatch(prefix) or prefix in _C_KEYWORDS:
        raise InputError(
            f"symbol prefix {prefix!r} is not a valid C identifier; use letters, digits and "
            "underscores, starting with a letter (e.g. tc_model)"
        )
    return prefix


def ctype(dtype: str) -> str:
    return _CTYPES[dtype]


def array(name: str, dtype: str, values: np.ndarray, align_macro: str) -> str:
    """A ``static const`` array definition, values wrapped to ``MAX_LINE`` columns."""
    flat = [scalar(int(v)) for v in np.asarray(values).ravel()]
    lines: list[str] = []
    line = "   "
    for item in flat:
        piece = f" {item},"
        if len(line) + len(piece) > MAX_LINE:
            lines.append(line)
            line = "   "
        line += piece
    if line.strip():
        lines.append(line)
    head = f"static const {ctype(dtype)} {name}[{len(flat)}] {align_macro} = {{"
    return "\n".join([head, *lines, "};"])


def initializer(value: object, indent: int = 1) -> str:
    """A C99 initializer: dicts become designated initializers, sequences braces."""
    pad = "    " * indent
    if isinstance(value, Mapping):
        inner = [f"{pad}.{k} = {initializer(v, indent + 1)}," for k, v in value.items()]
        flat = "{ " + " ".join(s.strip() for s in inner) + " }"
        if len(flat) + len(pad) <= MAX_LINE - 20 and indent > 1:
            return flat
        return "{\n" + "\n".join(inner) + "\n" + "    " * (indent - 1) + "}"
    if isinstance(value, (list, tuple)):
        return "{" + ", ".join(initializer(v, indent + 1) for v in value) + "}"
    return scalar(value)


def scalar(value: object) -> str:
    if isinstance(value, Raw):
        return value.text
    if isinstance(value, (bool, np.bool_)):
        return "1" if value else "0"
    if isinstance(value, (int, np.integer)):
        v = int(value)
        return "(-2147483647 - 1)" if v == -(2**31) else str(v)
    if isinstance(value, (float, np.floating)):
        return repr(float(value))
    if isinstance(value, str):
        return '"' + safe_text(value) + '"'
    raise TypeError(f"cannot print {type(value).__name__} as C")


def float_literal(value: float) -> str:
    """A ``float`` constant that reads back as exactly the same float32.

    Nine significant digits round-trip any float32; a literal without a
    point or exponent gets ``.0`` so the ``f`` suffix stays valid C.
    """
    text = f"{float(np.float32(value)):.9g}"
    if not any(c in text for c in ".e"):
        text += ".0"
    return text + "f"


def comment(text: str) -> str:
    """A one-line C comment, safe for any text (names come from the model)."""
    return f"/* {safe_text(text)} */"


def safe_text(text: str, limit: int = 72) -> str:
    """Model-supplied text reduced to characters harmless in C strings and comments."""
    clean = _UNSAFE.sub("_", text)
    return clean if len(clean) <= limit else clean[: limit - 3] + "..."


def wrap_values(items: Sequence[str], indent: str = "    ") -> list[str]:
    """Comma-separated items wrapped to ``MAX_LINE`` columns."""
    lines: list[str] = []
    line = indent
    for item in items:
        piece = f"{item}, "
        if len(line) + len(piece) > MAX_LINE and line.strip():
            lines.append(line.rstrip())
            line = indent
        line += piece
    if line.strip():
        lines.append(line.rstrip())
    return lines
