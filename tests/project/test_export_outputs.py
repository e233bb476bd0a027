"""``export -o PROJECT``: a project tinycompress wrote (and built, and profiled) is replaced; nothing else is."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from tinycompress.cli import main
from tinycompress.errors import InputError
from tinycompress.fsutil import atomic_directory
from tinycompress.project.boards import get_board
from tinycompress.project.build import build_project
from tinycompress.project.export import export_project
from tinycompress.project.model import ModelSources
from tinycompress.project.project import load_project

pytestmark = pytest.mark.host


def _tree(root: Path) -> dict[str, bytes | None]:
    return {p.relative_to(root).as_posix(): (p.read_bytes() if p.is_file() and not p.is_symlink() else None)
            for p in sorted(root.rglob("*"))}


def test_a_project_with_build_folders_and_a_report_is_exported_again(small_model: ModelSources,
                                                                     tmp_path: Path) -> None:
    project = tmp_path / "proj"
    export_project(small_model, get_board("qemu-riscv32"), project)
    (project / ".pio" / "build" / "qemu").mkdir(parents=True)
    (project / ".pio" / "build" / "qemu" / "firmware.elf").write_bytes(b"\x7fELF")
    (project / ".pio-core" / "packages" / "cache.bin").write_bytes(b"cache")
    (project / "report.json").write_text("{}")
    export_project(small_model, get_board("qemu-netduinoplus2"), project)
    assert load_project(project).board_name == "qemu-netduinoplus2"
    assert not (project / ".pio").exists() and not (project / "report.json").exists()


def test_what_an_esp_idf_build_adds_does_not_block_a_new_export(board_model, tmp_path: Path) -> None:
    """PlatformIO's ESP-IDF builder writes sdkconfig.<env> (and component files) beside platformio.ini."""
    project = tmp_path / "proj"
    export_project(board_model("esp32dev"), get_board("esp32dev"), project)
    (project / "sdkconfig.esp32dev").write_text("CONFIG_X=y\n")
    (project / "managed_components" / "some_component").mkdir(parents=True)
    export_project(board_model("esp32dev"), get_board("esp32dev"), project)
    assert not (project / "sdkconfig.esp32dev").exists()
    (project / "sdkconfig.other").write_text("CONFIG_X=y\n")
    with pytest.raises(InputError, match="sdkconfig.other was not written by tinycompress"):
        export_project(board_model("esp32dev"), get_board("esp32dev"), project)


@pytest.mark.parametrize("added", ["src/my_driver.c", "notes.txt", "src/port/extra/"])
def test_a_file_the_user_added_to_a_project_is_never_replaced(small_model: ModelSources, tmp_path: Path,
                                                             added: str) -> None:
    project = tmp_path / "proj"
    export_project(small_model, get_board("qemu-riscv32"), project)
    if added.endswith("/"):
        (project / added).mkdir()
    else:
        (project / added).write_text("mine")
    before = _tree(project)
    with pytest.raises(InputError, match=f"{added.rstrip('/')} was not written by tinycompress"):
        export_project(small_model, get_board("qemu-riscv32"), project)
    assert _tree(project) == before


def test_another_command_output_is_not_a_project(small_model: ModelSources, tmp_path: Path) -> None:
    out = tmp_path / "compressed"
    with atomic_directory(out, "compress") as tmp:
        (tmp / "model_int8.tflite").write_bytes(b"tflite")
    with pytest.raises(InputError, match="output of `tinycompress compress`, not of `tinycompress export`"):
        export_project(small_model, get_board("qemu-riscv32"), out)
    assert (out / "model_int8.tflite").read_bytes() == b"tflite"


def test_cli_refuses_a_model_inside_the_project(small_tflite: Path, tmp_path: Path) -> None:
    project = tmp_path / "proj"
    args = ["--board", "qemu-riscv32", "-o", str(project), "--quiet"]
    assert CliRunner().invoke(main, ["export", str(small_tflite), *args]).exit_code == 0
    inside = project / "model.tflite"  # the project's own copy of the model, given back as the input
    assert inside.read_bytes() == small_tflite.read_bytes()
    before = _tree(project)
    result = CliRunner().invoke(main, ["export", str(inside), *args])
    assert result.exit_code == 2, result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and "lies inside the output directory" in lines[0], result.output
    assert _tree(project) == before


@pytest.mark.emulator
def test_a_built_project_is_exported_again(small_model: ModelSources, tmp_path: Path,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    """What a real `pio run` adds to a project must not make tinycompress refuse its own project."""
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    project = tmp_path / "proj"
    export_project(small_model, get_board("qemu-riscv32"), project)
    build_project(project)
    assert (project / ".pio").is_dir()
    export_project(small_model, get_board("qemu-riscv32"), project)
    assert not (project / ".pio").exists() and load_project(project).board_name == "qemu-riscv32"
