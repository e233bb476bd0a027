"""docs/protocol.md is the one source of truth: Python and C must agree with it."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tinycompress.link.protocol import PROTOCOL_VERSION, Command, InfoTag, Status

pytestmark = pytest.mark.host

ROOT = Path(__file__).resolve().parents[2]
SPEC = (ROOT / "docs" / "protocol.md").read_text()
HEADER = (ROOT / "firmware" / "protocol" / "tc_proto.h").read_text()


def spec_table(first_column: str) -> dict[str, int]:
    """Name -> code from the markdown table whose header starts with ``first_column``."""
    lines = SPEC.splitlines()
    start = next(i for i, line in enumerate(lines)
                 if line.startswith(f"| {first_column} |") and lines[i + 1].startswith("|---"))
    table = {}
    for line in lines[start + 2 :]:
        if not line.startswith("|"):
            break
        cells = [c.strip() for c in line.strip("|").split("|")]
        table[cells[0]] = int(cells[1], 16)
    return table


def c_defines(prefix: str) -> dict[str, int]:
    return {m[1]: int(m[2], 0) for m in re.finditer(rf"#define {prefix}(\w+) (0x[0-9A-F]+)u", HEADER)}


@pytest.mark.parametrize(("column", "enum", "c_prefix"), [
    ("command", Command, "TC_PROTO_CMD_"),
    ("status", Status, "TC_PROTO_"),
    ("record", InfoTag, "TC_PROTO_INFO_"),
])
def test_tables_agree(column: str, enum, c_prefix: str) -> None:
    spec = spec_table(column)
    assert spec == {m.name: m.value for m in enum}
    in_c = {name: value for name, value in c_defines(c_prefix).items() if name in spec}
    assert in_c == spec


def test_version_agrees() -> None:
    assert f"# tinycompress serial protocol, version {PROTOCOL_VERSION}" in SPEC
    assert re.search(rf"#define TC_PROTO_VERSION {PROTOCOL_VERSION}\b", HEADER)
