"""``run`` keeps a device error's class, exit code and fields when it adds where the outputs are.

It used to rebuild the error as ``type(error)(message)``, which fails with a
TypeError for errors taking more arguments (DeviceStatusError: message and
status), so a device answering BAD_VERSION ended as an internal error.
"""

from __future__ import annotations

import contextlib
import json
import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from fake_device import FakeDevice

from tinycompress.cli import main
from tinycompress.link import DeviceStatusError, Status
from tinycompress.link.protocol import PROTOCOL_VERSION

pytestmark = pytest.mark.emulator


@contextlib.contextmanager
def serve_over_tcp(device: FakeDevice) -> Iterator[str]:
    """``device`` behind a local TCP port, as a serial-over-TCP board would be; yields its pyserial URL."""
    server = socket.create_server(("127.0.0.1", 0))
    stop = threading.Event()

    def answer() -> None:
        with contextlib.suppress(OSError):
            connection, _ = server.accept()
            with connection:
                connection.settimeout(0.2)
                while not stop.is_set():
                    try:
                        data = connection.recv(4096)
                    except TimeoutError:
                        continue
                    if not data:
                        return
                    connection.sendall(device.receive(data))

    thread = threading.Thread(target=answer, daemon=True)
    thread.start()
    try:
        yield f"socket://127.0.0.1:{server.getsockname()[1]}"
    finally:
        stop.set()
        server.close()
        thread.join(timeout=5)


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from tinycompress.compress.demo import build

    import tinycompress.compress.tfenv  # noqa: F401  (TF's environment before Keras 3 loads)

    path = tmp_path_factory.mktemp("model") / "tiny.keras"
    build("cnn").save(path)
    return path


@pytest.fixture(scope="module")
def recipe_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("recipe") / "fast.toml"
    path.write_text("[prune]\ntarget_sparsity = 0\n[cluster]\nclusters = 0\n[finetune]\nepochs = 1\n")
    return path


def test_a_device_of_another_protocol_version_is_a_device_error(tiny_model: Path, recipe_file: Path,
                                                                 tmp_path: Path) -> None:
    from tinycompress.compress.recipe import load_recipe
    from tinycompress.run import run

    out = tmp_path / "out"
    with serve_over_tcp(FakeDevice(version=PROTOCOL_VERSION + 1)) as url, pytest.raises(DeviceStatusError) as info:
        run(tiny_model, "digits", "qemu-riscv32", out, load_recipe(recipe_file), port=url, limit=2)
    error = info.value
    assert error.status == Status.BAD_VERSION and error.exit_code == 7
    assert "BAD_VERSION" in str(error) and f"partial report are kept in {out}" in str(error)
    assert json.loads((out / "report.json").read_text())["complete"] is False


def test_cli_prints_the_device_error_and_exits_7(tiny_model: Path, recipe_file: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    with serve_over_tcp(FakeDevice(version=PROTOCOL_VERSION + 1)) as url:
        result = CliRunner().invoke(main, ["run", str(tiny_model), "--data", "digits", "--board", "qemu-riscv32",
                                           "--recipe", str(recipe_file), "-o", str(out), "--port", url,
                                           "--limit", "2", "--quiet"])
    assert result.exit_code == 7, result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), result.output
    assert "BAD_VERSION" in lines[0] and "partial report are kept" in lines[0] and "internal error" not in lines[0]
