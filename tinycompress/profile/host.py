"""The protocol server as a host process: real C protocol code, no board.

Builds ``firmware/protocol`` + the generated model + the runtime + the host
port (``firmware/ports/host/tcp``, a TCP socket standing in for the UART) with
the system C compiler, runs it, and hands back a ``socket://`` URL for the
link. This proves the device side of the protocol against the host side
without QEMU, and profiles the generated C on the development machine.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
from collections.abc import Iterator, Sequence
from pathlib import Path

from tinycompress.errors import ToolError
from tinycompress.resources import ports_dir, protocol_dir, runtime_dir

_CFLAGS = ("-std=c99", "-O2", "-Wall", "-Wextra", "-Werror")


def build_host_server(model_dir: Path, output: Path, *, runtime_sources: Sequence[Path] = (),
                      profile_layers: bool = True, rx_max: int | None = None, cc: str = "gcc") -> Path:
    """Compile the host protocol server for the model in ``model_dir`` (``model.h``/``.c``)."""
    if shutil.which(cc) is None:
        raise ToolError(f"C compiler {cc!r} not found; install gcc (apt-get install gcc)")
    tcp_port = ports_dir() / "host" / "tcp"
    sources = [
        protocol_dir() / "tc_proto.c",
        tcp_port / "tc_port_tcp.c",
        tcp_port / "tc_host_main.c",
        *sorted(Path(model_dir).glob("*.c")),
        *runtime_sources,
    ]
    includes = [protocol_dir(), ports_dir() / "include", runtime_dir() / "include", runtime_dir() / "src",
                Path(model_dir)]
    defines = (["-DTC_PROFILE_LAYERS"] if profile_layers else []) + ([f"-DTC_PROTO_RX_MAX={rx_max}"] if rx_max else [])
    output = Path(output)
    output.parent.mkdir(parents=True, exist_ok=True)
    command = [cc, *_CFLAGS, *defines, *(f"-I{d}" for d in includes), *map(str, sources), "-o", str(output)]
    result = subprocess.run(command, capture_output=True, text=True)
    if result.returncode != 0:
        first = (result.stderr.strip().splitlines() or ["no output"])[0]
        raise ToolError(f"building the host protocol server failed: {first}; rerun with --debug for the full log")
    return output


@contextlib.contextmanager
def run_host_server(binary: Path, *, start_timeout: float = 10.0, die_after_bytes: int | None = None) -> Iterator[str]:
    """Start the server; yield its ``socket://`` URL; stop it on exit.

    ``die_after_bytes`` makes the server exit after receiving that many bytes
    (fault injection: a device lost mid-run).
    """
    env = dict(os.environ)
    if die_after_bytes is not None:
        env["TC_HOST_DIE_AFTER_BYTES"] = str(die_after_bytes)
    process = subprocess.Popen([str(binary)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        line = _first_line(process, start_timeout)
        if not line.startswith("TC_HOST_PORT "):
            raise ToolError(f"host protocol server {binary} did not start (said {line!r})")
        yield f"socket://127.0.0.1:{int(line.split()[1])}"
    finally:
        if process.poll() is None:
            process.terminate()
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=5)
        if process.poll() is None:
            process.kill()
            process.wait()
        for stream in (process.stdout, process.stderr):
            if stream:
                stream.close()


def _first_line(process: subprocess.Popen, timeout: float) -> str:
    import selectors

    with selectors.DefaultSelector() as selector:
        selector.register(process.stdout, selectors.EVENT_READ)
        if not selector.select(timeout):
            raise ToolError(f"host protocol server gave no port within {timeout:g} s")
    return process.stdout.readline().strip()
