"""Export + build a firmware project whose application answers the serial protocol.

Shared by tests/link/test_profile_emulated.py and benchmarks/device_latency.py.
"""

from __future__ import annotations

import shutil
from pathlib import Path

PROTOCOL = Path(__file__).resolve().parents[2] / "firmware" / "protocol"
PROTOCOL_MAIN = """\
#include "tc_port.h"
#include "tc_proto.h"

int main(void)
{
    tc_port_init();
    tc_proto_serve();
    tc_port_exit(0);
    return 0;
}
"""


def serve_protocol(project: Path) -> None:
    """Make the exported application the protocol server, if the template does not already.

    Until templates/src/main.c.j2 runs tc_proto_serve() itself, this puts the
    protocol sources and a three-line main into the exported project.
    """
    main_c = project / "src" / "main.c"
    if "tc_proto_serve" in main_c.read_text():
        return
    (project / "src" / "protocol").mkdir(exist_ok=True)
    for name in ("tc_proto.c", "tc_proto.h"):
        shutil.copyfile(PROTOCOL / name, project / "src" / "protocol" / name)
    main_c.write_text(PROTOCOL_MAIN)
    ini = project / "platformio.ini"
    flags = "build_flags =\n    -DTC_PROFILE_LAYERS\n    -Isrc/protocol\n"
    ini.write_text(ini.read_text().replace("build_flags =\n", flags, 1))


def export_and_build(tflite: Path, board_name: str, out: Path, *, runtime_arch: str | None = None):
    """``export`` + protocol application + ``build``; returns the BuildResult.

    ``runtime_arch`` None builds the reference kernels (firmware/runtime/src).
    """
    from tinycompress.project.boards import get_board
    from tinycompress.project.build import build_project
    from tinycompress.project.export import export_project
    from tinycompress.project.model import model_sources_from_tflite

    export_project(model_sources_from_tflite(tflite, runtime_arch=runtime_arch), get_board(board_name), out)
    serve_protocol(out)
    return build_project(out)
