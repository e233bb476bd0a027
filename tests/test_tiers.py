"""The tier rules of tests/conftest.py, run on small suites under the project's own conftest and pytest settings."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

pytestmark = pytest.mark.host

ROOT = Path(__file__).resolve().parents[1]
MISSING = "tinycompress-no-such-tool"
USES_MISSING_TOOL = f"""
import subprocess
import pytest

pytestmark = [pytest.mark.host, pytest.mark.needs_tools({MISSING!r})]

def test_runs_the_tool():
    subprocess.run([{MISSING!r}], check=True)
"""
HARDWARE = """
import pytest

pytestmark = pytest.mark.hardware

def test_on_the_board():
    assert False, "ran without a board"
"""


@pytest.fixture
def suite(pytester: pytest.Pytester) -> pytest.Pytester:
    """An empty test suite under a copy of this project's conftest.py and pyproject.toml."""
    pytester.makepyprojecttoml((ROOT / "pyproject.toml").read_text())
    (pytester.path / "tests").mkdir()
    (pytester.path / "tests" / "conftest.py").write_text((ROOT / "tests" / "conftest.py").read_text())
    return pytester


def _write(suite: pytest.Pytester, name: str, text: str) -> None:
    (suite.path / "tests" / name).write_text(text)


def test_a_file_without_tier_marker_stops_the_run(suite: pytest.Pytester) -> None:
    _write(suite, "test_tiered.py", "import pytest\npytestmark = pytest.mark.host\ndef test_a():\n    pass\n")
    _write(suite, "test_untiered.py", "import pytest\n@pytest.mark.host\ndef test_b():\n    pass\n")
    result = suite.runpytest_subprocess("-p", "no:cacheprovider")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*test files without a tier marker: tests/test_untiered.py;*"])


def test_hardware_tier_is_skipped_with_its_reason_without_a_board(suite: pytest.Pytester) -> None:
    _write(suite, "test_board.py", HARDWARE)
    result = suite.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(skipped=1)
    result.stdout.fnmatch_lines(["SKIPPED*hardware tier: pass --board (and --port for a real board)*"])


def test_a_port_and_board_select_the_hardware_tier(suite: pytest.Pytester) -> None:
    """The project's addopts must not deselect the hardware tier once a board is given.

    ``--port=PATH`` (or a test path before ``--port PATH``): otherwise pytest
    takes an existing PATH for a test path before tests/conftest.py defines
    the option, and never loads that conftest.
    """
    _write(suite, "test_board.py", HARDWARE)
    result = suite.runpytest_subprocess("-p", "no:cacheprovider", "--collect-only", "-q",
                                        "--port=/dev/null", "--board", "nucleo_l4r5zi")
    assert result.ret == pytest.ExitCode.OK
    result.stdout.fnmatch_lines(["tests/test_board.py::test_on_the_board", "1 test collected*"])
    assert "deselected" not in result.stdout.str()


def test_deselecting_the_hardware_tier_of_a_given_board_is_refused(suite: pytest.Pytester) -> None:
    _write(suite, "test_board.py", HARDWARE)
    result = suite.runpytest_subprocess("-p", "no:cacheprovider", "-m", "not hardware",
                                        "tests", "--port", "/dev/null", "--board", "nucleo_l4r5zi")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*-m/-k deselected every hardware test*"])


@pytest.mark.parametrize("option, message", [
    (["--port=/dev/null"], "*--port needs --board*"),
    (["--board", "nucleo_l4r5zi"], "*nucleo_l4r5zi is a real board: give its serial port with --port*"),
    (["--board", "nucleo_xyz"], "*unknown board 'nucleo_xyz'*"),
])
def test_incomplete_board_options_are_refused(suite: pytest.Pytester, option: list[str], message: str) -> None:
    _write(suite, "test_board.py", HARDWARE)
    result = suite.runpytest_subprocess("-p", "no:cacheprovider", *option)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([message])


def test_a_missing_tool_skips_and_fails_when_required(suite: pytest.Pytester,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    _write(suite, "test_tool.py", USES_MISSING_TOOL)
    monkeypatch.delenv("TINYCOMPRESS_REQUIRE_EMULATOR", raising=False)
    result = suite.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(skipped=1)
    result.stdout.fnmatch_lines([f"SKIPPED*missing {MISSING}; run ./setup.sh*"])
    monkeypatch.setenv("TINYCOMPRESS_REQUIRE_EMULATOR", "1")
    result = suite.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines([f"*missing {MISSING}; run ./setup.sh (TINYCOMPRESS_REQUIRE_EMULATOR=1 forbids*"])


def test_emulator_tests_need_qemu_and_the_cross_compilers(suite: pytest.Pytester, tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    _write(suite, "test_emulated.py", "import pytest\npytestmark = pytest.mark.emulator\n"
                                      "def test_in_qemu():\n    pass\n")
    monkeypatch.setenv("PATH", str(tmp_path))  # none of the emulator's programs on it
    monkeypatch.delenv("TINYCOMPRESS_REQUIRE_EMULATOR", raising=False)
    result = suite.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(skipped=1)
    result.stdout.fnmatch_lines(["SKIPPED*missing arm-none-eabi-gcc, qemu-system-arm, qemu-system-riscv32, "
                                 "riscv64-unknown-elf-gcc; run ./setup.sh*"])
    monkeypatch.setenv("TINYCOMPRESS_REQUIRE_EMULATOR", "1")
    suite.runpytest_subprocess("-p", "no:cacheprovider").assert_outcomes(errors=1)


def test_ci_runs_the_readme_test_command_with_the_emulator_required() -> None:
    """CI runs exactly what the README tells a user, with missing emulator tools made failures."""
    command = re.search(r"Run the tests:\n\n```sh\n(.+)\n```", (ROOT / "README.md").read_text()).group(1)
    lines = [line for line in (ROOT / ".ci" / "run").read_text().splitlines() if line and not line.startswith("#")]
    assert lines[-1] == command == ".venv/bin/python -m pytest"
    assert "export TINYCOMPRESS_REQUIRE_EMULATOR=1" in lines[:-1]
