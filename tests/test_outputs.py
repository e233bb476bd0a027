"""Output paths: tinycompress replaces only what it wrote, and fails before the work when it cannot write.

fsutil-level tests on real files and processes; the command-level ones
(compress, export, run, demo, profile) sit next to their commands' tests.
"""

from __future__ import annotations

import json
import os
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from tinycompress.cli import main
from tinycompress.errors import InputError
from tinycompress.fsutil import (
    MARKER_NAME,
    NAME_MAX,
    STALE_AFTER_S,
    atomic_directory,
    check_output_dir,
    check_writable,
    clean_stale_temporaries,
    write_bytes_atomic,
    write_with_fallback,
)

pytestmark = pytest.mark.host


def _tree(root: Path) -> dict[str, bytes | None]:
    """Every path under ``root`` with its bytes (None for folders)."""
    return {p.relative_to(root).as_posix(): (p.read_bytes() if p.is_file() else None) for p in sorted(root.rglob("*"))}


def _write_output(out: Path, command: str = "compress", text: str = "1", **kwargs) -> None:
    with atomic_directory(out, command, **kwargs) as tmp:
        (tmp / "report.json").write_text(text)
        (tmp / "sub").mkdir()
        (tmp / "sub" / "model.bin").write_bytes(b"\0" * 4)


def test_an_earlier_output_is_replaced_and_signed(tmp_path: Path) -> None:
    out = tmp_path / "out"
    _write_output(out, text="first")
    marker = json.loads((out / MARKER_NAME).read_text())
    assert marker["tool"] == "tinycompress" and marker["command"] == "compress" and marker["version"]
    assert marker["entries"] == ["report.json", "sub", "sub/model.bin"]
    _write_output(out, text="second")
    assert (out / "report.json").read_text() == "second"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"], "a temporary was left beside OUT"


@pytest.mark.parametrize("foreign", ["thesis.tex", "sub/notes.txt", "extra/"])
def test_anything_not_listed_in_the_marker_is_never_replaced(tmp_path: Path, foreign: str) -> None:
    out = tmp_path / "out"
    _write_output(out)
    if foreign.endswith("/"):
        (out / foreign).mkdir()
    else:
        (out / foreign).write_text("precious")
    before = _tree(out)
    with pytest.raises(InputError, match=f"{foreign.rstrip('/')} was not written by tinycompress.*choose another -o"):
        check_output_dir(out, "compress")
    with pytest.raises(InputError, match="was not written by tinycompress"), atomic_directory(out, "compress") as tmp:
        (tmp / "report.json").write_text("new")
    assert _tree(out) == before


def test_a_folder_without_our_marker_is_refused_even_with_a_report(tmp_path: Path) -> None:
    """The original loss: any folder holding a report.json was taken for an earlier output."""
    out = tmp_path / "thesis"
    out.mkdir()
    (out / "report.json").write_text("{}")
    (out / "thesis.tex").write_text("precious")
    (out / MARKER_NAME).write_text('{"tool": "someone else"}')
    before = _tree(out)
    with pytest.raises(InputError, match=r"not empty and holds \.tinycompress\.json.*choose another -o or empty it"):
        check_output_dir(out, "compress")
    assert _tree(out) == before
    empty = tmp_path / "empty"
    empty.mkdir()
    assert check_output_dir(empty, "compress") == empty.resolve()


def test_the_output_of_another_command_is_refused(tmp_path: Path) -> None:
    out = tmp_path / "out"
    _write_output(out, "run")
    with pytest.raises(InputError, match="output of `tinycompress run`, not of `tinycompress compress`"):
        check_output_dir(out, "compress")
    check_output_dir(out, "run")


def test_a_file_put_into_out_during_the_run_survives(tmp_path: Path) -> None:
    out = tmp_path / "out"
    _write_output(out)
    with pytest.raises(InputError, match="later.txt was not written"), atomic_directory(out, "compress") as tmp:
        (out / "later.txt").write_text("written by the user while we worked")
        (tmp / "report.json").write_text("new")
    assert (out / "later.txt").is_file() and (out / "report.json").read_text() == "1"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_owned_paths_may_change_after_the_output_was_written(tmp_path: Path) -> None:
    """A build folder or a profile report added later by tinycompress does not block a new export."""
    out = tmp_path / "proj"
    _write_output(out, "export", owned=(".pio", "report.json"))
    (out / ".pio" / "build").mkdir(parents=True)
    (out / ".pio" / "build" / "firmware.elf").write_bytes(b"elf")
    (out / "report.json").write_text("profile report")
    _write_output(out, "export", text="again", owned=(".pio", "report.json"))
    assert (out / "report.json").read_text() == "again" and not (out / ".pio").exists()


@pytest.mark.parametrize("where", ["inside", "is the folder", "symlink inside"])
def test_an_input_inside_out_is_refused(tmp_path: Path, where: str) -> None:
    out = tmp_path / "out"
    _write_output(out)
    model = tmp_path / "model.keras"
    model.write_bytes(b"model")
    given = {"inside": out / "sub" / "model.bin", "is the folder": out, "symlink inside": out / "link.keras"}[where]
    if where == "symlink inside":
        given.symlink_to(model)
    with pytest.raises(InputError, match="lies inside the output directory .*choose another -o"):
        check_output_dir(out, "compress", inputs=("digits", model, given))
    assert (out / "sub" / "model.bin").is_file() and model.read_bytes() == b"model"
    if given.is_symlink():
        given.unlink()
    check_output_dir(out, "compress", inputs=("digits", model))


@pytest.mark.parametrize("mask", [0o022, 0o027])
def test_outputs_follow_the_umask(tmp_path: Path, mask: int) -> None:
    old = os.umask(mask)
    try:
        _write_output(tmp_path / "out")
        write_bytes_atomic(tmp_path / "file.bin", b"x")
    finally:
        os.umask(old)
    modes = {p.relative_to(tmp_path).as_posix(): stat.S_IMODE(p.stat().st_mode) for p in tmp_path.rglob("*")}
    for name, mode in modes.items():
        expected = (0o777 if (tmp_path / name).is_dir() else 0o666) & ~mask
        assert mode == expected, (name, oct(mode), oct(expected))


def test_names_up_to_the_file_system_limit_work(tmp_path: Path) -> None:
    """A temporary named after a 250-byte target used to exceed NAME_MAX."""
    longest = "é" * ((NAME_MAX - 1) // 2) + "x"
    assert len(os.fsencode(longest)) == NAME_MAX
    _write_output(tmp_path / longest)
    assert (tmp_path / longest / "report.json").is_file()
    write_bytes_atomic(tmp_path / ("f" * NAME_MAX), b"x")
    assert (tmp_path / ("f" * NAME_MAX)).read_bytes() == b"x"
    with pytest.raises(InputError, match=f"is {NAME_MAX + 1} bytes long.*choose a shorter name"):
        check_output_dir(tmp_path / ("d" * (NAME_MAX + 1)), "compress")


def _unwritable_parent(tmp_path: Path) -> Path:
    """A real folder we may not write into: read-only for a normal user; as root, /sys."""
    if os.geteuid() == 0:
        return Path("/sys")
    folder = tmp_path / "read-only"
    folder.mkdir(mode=0o555)
    return folder


def test_an_unwritable_location_is_refused_up_front(tmp_path: Path) -> None:
    parent = _unwritable_parent(tmp_path)
    for target in (parent / "out", parent / "new" / "deeper" / "out"):
        with pytest.raises(InputError, match=f"cannot write {target}: {parent} is not writable.*choose another"):
            check_output_dir(target, "compress")
        with pytest.raises(InputError, match="is not writable"):
            check_writable(target / "report.json")
    blocked = tmp_path / "a-file"
    blocked.write_text("x")
    with pytest.raises(InputError, match="is not writable"):
        check_writable(blocked / "report.json")


def test_a_failed_final_write_keeps_the_results_elsewhere(tmp_path: Path) -> None:
    blocked = tmp_path / "a-file"
    blocked.write_text("x")
    with pytest.raises(InputError, match=r"cannot write .*report\.json .*saved to (\S+) instead") as info:
        write_with_fallback(blocked / "report.json", '{"samples": 60}\n', "report")
    kept = Path(str(info.value).rsplit("saved to ", 1)[1].split(" instead")[0])
    try:
        assert kept.read_text() == '{"samples": 60}\n'
    finally:
        kept.unlink()


_KILLED_WRITER = """
import os, signal, sys
from tinycompress.fsutil import atomic_directory, write_bytes_atomic
with atomic_directory(sys.argv[1], "compress") as tmp:
    (tmp / "half.bin").write_bytes(b"half")
    os.kill(os.getpid(), signal.SIGKILL)
"""


def _killed_writer(out: Path) -> Path:
    """Run a real writer and SIGKILL it mid-write; return the temporary it left."""
    run = subprocess.run([sys.executable, "-c", _KILLED_WRITER, str(out)], check=False)
    assert run.returncode == -signal.SIGKILL
    (left,) = [p for p in out.parent.iterdir() if p.name.endswith(".tmp")]
    return left


def _age(path: Path, seconds: float) -> None:
    then = time.time() - seconds
    os.utime(path, (then, then))


def test_a_temporary_left_by_a_killed_run_is_cleaned_on_the_next_run(tmp_path: Path) -> None:
    out = tmp_path / "out"
    left = _killed_writer(out)
    assert left.name.startswith(".out.") and (left / "half.bin").is_file()
    assert clean_stale_temporaries(out) == [], "a fresh temporary may belong to a writer on another machine"
    _age(left, STALE_AFTER_S + 1)
    _write_output(out)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_temporaries_that_may_be_alive_or_not_ours_are_kept(tmp_path: Path) -> None:
    out = tmp_path / "out"
    dead = _killed_writer(out)
    pid = dead.name.split(".")[2]
    keep = [
        tmp_path / f".out.{os.getpid()}.abcdefgh.tmp",  # a live process: a concurrent run
        tmp_path / f".other.{pid}.abcdefgh.tmp",  # another target's
        tmp_path / f".out.{pid}.notours.tmp",  # not our pattern
        tmp_path / ".out.old",
        tmp_path / "out.tmp",
    ]
    for path in keep:
        path.mkdir()
    (tmp_path / f".out.{pid}.abcdefgh.tmp.txt").write_text("the user's")
    for path in [dead, *tmp_path.iterdir()]:
        _age(path, STALE_AFTER_S + 1)
    assert clean_stale_temporaries(out) == [dead]
    assert all(path.is_dir() for path in keep) and (tmp_path / f".out.{pid}.abcdefgh.tmp.txt").is_file()


def test_foreign_folder_error_is_one_line_on_the_command_line(tmp_path: Path) -> None:
    """Through the CLI: exit 2, one error line naming the foreign entry and the fix, nothing touched."""
    out = tmp_path / "out"
    out.mkdir()
    (out / "report.json").write_text("{}")
    (out / "thesis.tex").write_text("precious")
    result = CliRunner().invoke(main, ["demo", "-o", str(out)])
    assert result.exit_code == 2, result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: refusing to replace"), result.output
    assert "report.json" in lines[0] and "choose another -o or empty it" in lines[0]
    assert _tree(out) == {"report.json": b"{}", "thesis.tex": b"precious"}


def test_a_file_temporary_left_by_a_killed_write_is_cleaned(tmp_path: Path) -> None:
    report = tmp_path / "report.json"
    # The writer dies right before its rename: the moment a SIGKILL leaves a temporary behind.
    code = ("import os, signal, sys\n"
            "from tinycompress.fsutil import write_bytes_atomic\n"
            "os.replace = lambda *args: os.kill(os.getpid(), signal.SIGKILL)\n"
            "write_bytes_atomic(sys.argv[1], b'a report')\n")
    assert subprocess.run([sys.executable, "-c", code, str(report)], check=False).returncode == -signal.SIGKILL
    (left,) = tmp_path.iterdir()
    _age(left, STALE_AFTER_S + 1)
    write_bytes_atomic(report, b"{}")
    assert [p.name for p in tmp_path.iterdir()] == ["report.json"]
