"""``tinycompress compress -o OUT`` replaces only an earlier compress output, and never the input model.

The refusals happen before training, so these tests need no fine-tuning
except the one that proves a genuine earlier output is still replaced.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from shared_checks import one_line_refusal
from tinycompress.cli import main
from tinycompress.fsutil import MARKER_NAME, atomic_directory

pytestmark = pytest.mark.host

FAST = "[finetune]\nepochs = 1\nbatch_size = 64\n[prune]\ntarget_sparsity = 0\n[cluster]\nclusters = 0\n"


def _tree(root: Path) -> dict[str, bytes | None]:
    return {p.relative_to(root).as_posix(): (p.read_bytes() if p.is_file() else None) for p in sorted(root.rglob("*"))}


def _compress(model: Path, out: Path, recipe: Path | None = None):
    args = ["compress", str(model), "--data", "digits", "-o", str(out), "--quiet"]
    return CliRunner().invoke(main, args + (["--recipe", str(recipe)] if recipe else []))


def _demo_like(out: Path, model: Path) -> Path:
    """What `demo` leaves: report.json, compress/, project/ and the trained model."""
    (out / "compress").mkdir(parents=True)
    (out / "compress" / "report.json").write_text("{}")
    (out / "project" / "src").mkdir(parents=True)
    (out / "project" / "src" / "main.c").write_text("int main(void) { return 0; }\n")
    (out / "report.json").write_text("{}")
    return Path(shutil.copyfile(model, out / "digits_cnn.keras"))


def test_a_demo_output_and_its_model_survive_compress(tmp_path: Path, keras3_cnn: Path) -> None:
    """The reported loss: `compress demo-out/digits_cnn.keras -o demo-out` deleted all of demo-out."""
    out = tmp_path / "demo-out"
    model = _demo_like(out, keras3_cnn)
    before = _tree(out)
    one_line_refusal(_compress(model, out), "lies inside the output directory", "choose another -o")
    assert _tree(out) == before
    one_line_refusal(_compress(keras3_cnn, out), "refusing to replace", "choose another -o or empty it")
    assert _tree(out) == before


def test_a_run_output_is_not_replaced_by_compress(tmp_path: Path, keras3_cnn: Path) -> None:
    out = tmp_path / "run-out"
    with atomic_directory(out, "run") as tmp:
        (tmp / "report.json").write_text("{}")
    before = _tree(out)
    one_line_refusal(_compress(keras3_cnn, out), "output of `tinycompress run`", "not of `tinycompress compress`")
    assert _tree(out) == before


def test_a_report_json_does_not_make_a_folder_ours(tmp_path: Path, keras3_cnn: Path) -> None:
    out = tmp_path / "thesis"
    out.mkdir()
    (out / "report.json").write_text('{"chapter": 3}')
    (out / "thesis.tex").write_text("precious")
    one_line_refusal(_compress(keras3_cnn, out), "refusing to replace", "holds report.json")
    assert _tree(out) == {"report.json": b'{"chapter": 3}', "thesis.tex": b"precious"}


def test_an_unwritable_output_is_refused_before_training(tmp_path: Path, keras3_cnn: Path) -> None:
    blocked = tmp_path / "a-file"
    blocked.write_text("x")
    one_line_refusal(_compress(keras3_cnn, blocked / "out"), "is not writable", "choose another output path")
    one_line_refusal(_compress(keras3_cnn, tmp_path / ("o" * 256)), "256 bytes long", "choose a shorter name")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a-file"]


def test_an_earlier_compress_output_is_replaced_unless_the_user_added_to_it(tmp_path: Path, keras3_cnn: Path) -> None:
    recipe = tmp_path / "fast.toml"
    recipe.write_text(FAST)
    out = tmp_path / "out"
    assert _compress(keras3_cnn, out, recipe).exit_code == 0
    marker = json.loads((out / MARKER_NAME).read_text())
    assert marker["command"] == "compress"
    assert marker["entries"] == sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.name != MARKER_NAME)
    (out / "notes.txt").write_text("mine")
    one_line_refusal(_compress(keras3_cnn, out, recipe), "notes.txt was not written by tinycompress")
    (out / "notes.txt").unlink()
    first = (out / "report.json").read_text()
    assert _compress(keras3_cnn, out, recipe).exit_code == 0
    assert (out / "report.json").read_text() != first, "the earlier output was not replaced"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["fast.toml", "out"]
