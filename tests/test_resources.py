"""tinycompress.resources: one place finds boards/, templates/ and firmware/, or says clearly what is missing."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from tinycompress import resources
from tinycompress.cli import main
from tinycompress.errors import TinyCompressError
from tinycompress.project.boards import load_boards

pytestmark = pytest.mark.host

REPO = Path(__file__).resolve().parents[1]


def _copy_data(root: Path, *names: str) -> Path:
    for name in names:
        shutil.copytree(REPO / name, root / name)
    return root


@pytest.fixture
def roots(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Path, Path]]:
    """Point the resolver at two empty stand-ins (package data, checkout); restore the real one afterwards."""
    package, checkout = tmp_path / "site-packages" / "tinycompress" / "_data", tmp_path / "checkout"
    package.mkdir(parents=True)
    checkout.mkdir()
    monkeypatch.setattr(resources, "search_roots", lambda: (package, checkout))
    resources.data_dir.cache_clear()
    load_boards.cache_clear()
    yield package, checkout
    resources.data_dir.cache_clear()
    load_boards.cache_clear()


def test_the_checkout_resolves_to_its_own_folders() -> None:
    assert resources.firmware_dir() == REPO / "firmware"
    assert resources.templates_dir() == REPO / "templates"
    assert resources.boards_dir() == REPO / "boards"
    assert resources.platform_dir() == REPO / "boards" / "platform"


def test_package_data_wins_over_the_checkout(roots: tuple[Path, Path]) -> None:
    package, checkout = roots
    _copy_data(package, "firmware")
    _copy_data(checkout, "firmware")
    assert resources.firmware_dir() == package / "firmware"
    assert resources.runtime_dir() == package / "firmware" / "runtime"


def test_the_checkout_serves_when_no_package_data(roots: tuple[Path, Path]) -> None:
    _, checkout = roots
    _copy_data(checkout, "templates")
    assert resources.templates_dir() == checkout / "templates"


def test_a_missing_folder_is_one_clear_error(roots: tuple[Path, Path]) -> None:
    package, checkout = roots
    with pytest.raises(TinyCompressError) as caught:
        resources.firmware_dir()
    message = str(caught.value)
    assert "firmware/ folder is missing" in message
    assert str(package / "firmware") in message and str(checkout / "firmware") in message
    assert "pip install --force-reinstall" in message and "git checkout -- firmware" in message
    assert "\n" not in message


def test_an_incomplete_folder_names_what_is_missing(roots: tuple[Path, Path]) -> None:
    package, _ = roots
    _copy_data(package, "firmware")
    (package / "firmware" / "protocol" / "tc_proto.c").unlink()
    with pytest.raises(TinyCompressError, match=r"firmware/ folder .* is incomplete: no protocol/tc_proto\.c; "):
        resources.firmware_dir()


def test_boards_folder_without_boards_is_an_error_not_an_empty_list(roots: tuple[Path, Path]) -> None:
    package, _ = roots
    _copy_data(package, "boards")
    for board in (package / "boards").glob("*.toml"):
        board.unlink()
    result = CliRunner().invoke(main, ["boards"])
    assert result.exit_code == 1
    assert "error: tinycompress's boards/ folder" in result.output and "incomplete: no *.toml" in result.output
