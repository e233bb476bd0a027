"""``run -o OUT``: a later run replaces an earlier run's OUT; nothing else is replaced, and the input never is."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from shared_checks import one_line_refusal
from tinycompress.cli import main
from tinycompress.fsutil import MARKER_NAME, atomic_directory

pytestmark = pytest.mark.host


def _tree(root: Path) -> dict[str, bytes | None]:
    return {p.relative_to(root).as_posix(): (p.read_bytes() if p.is_file() and not p.is_symlink() else None)
            for p in sorted(root.rglob("*"))}


def _run(model: Path, out: Path, *extra: str):
    return CliRunner().invoke(main, ["run", str(model), "--data", "digits", "--board", "qemu-riscv32",
                                     "-o", str(out), "--quiet", *extra])


def test_run_refuses_what_it_did_not_write(tmp_path: Path) -> None:
    model = tmp_path / "model.keras"
    model.write_bytes(b"not even read: the output is checked first")
    compressed = tmp_path / "compressed"
    with atomic_directory(compressed, "compress") as tmp:
        (tmp / "report.json").write_text("{}")
    thesis = tmp_path / "thesis"
    thesis.mkdir()
    (thesis / "report.json").write_text("{}")
    (thesis / "thesis.tex").write_text("precious")
    before = {path: _tree(path) for path in (compressed, thesis)}
    one_line_refusal(_run(model, compressed), "output of `tinycompress compress`", "not of `tinycompress run`")
    one_line_refusal(_run(model, thesis), "refusing to replace", "holds report.json", "choose another -o")
    assert {path: _tree(path) for path in (compressed, thesis)} == before


def test_run_refuses_an_output_holding_its_model_or_data(tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    model = out / "model.keras"
    model.write_bytes(b"model")
    one_line_refusal(_run(model, out), "the input", "lies inside the output directory")
    data = out / "data.npz"
    data.write_bytes(b"data")
    one_line_refusal(_run(tmp_path / "elsewhere.keras", out, "--data", str(data)), "data.npz lies inside")
    assert _tree(out) == {"data.npz": b"data", "model.keras": b"model"}


@pytest.mark.emulator
def test_a_run_output_is_replaced_by_the_next_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """OUT/compress and OUT/project carry their own markers inside the run's; a later run replaces them all."""
    from tinycompress.compress.demo import build
    from tinycompress.compress.recipe import ClusterConfig, FinetuneConfig, PruneConfig, Recipe
    from tinycompress.errors import LinkError
    from tinycompress.run import run

    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    model = tmp_path / "tiny.keras"
    build("cnn").save(model)
    out = tmp_path / "out"
    recipe = Recipe(prune=PruneConfig(target_sparsity=0.0), cluster=ClusterConfig(clusters=0),
                    finetune=FinetuneConfig(epochs=1))

    def run_once(keep_model: bool = False) -> None:
        # No device listens on port 1: the chain stops at profile, after OUT is complete.
        with pytest.raises(LinkError, match="partial report are kept"):
            run(model, "digits", "qemu-riscv32", out, recipe, port="socket://127.0.0.1:1", limit=2,
                keep_model=keep_model)

    run_once()
    markers = {name: json.loads((out / name / MARKER_NAME).read_text())["command"]
               for name in ("", "compress", "project")}
    assert markers == {"": "run", "compress": "compress", "project": "export"}
    assert (out / "project" / ".pio").is_dir(), "the run's build folder"
    first = (out / "report.json").read_text()
    (out / "project" / "report.json").write_text("{}")  # what `tinycompress profile OUT/project` would add
    run_once(keep_model=True)  # as the demo does with the model it trained
    assert (out / "report.json").read_text() != first and not (out / "project" / "report.json").exists()
    assert (out / "tiny.keras").read_bytes() == model.read_bytes()
    assert "tiny.keras" in json.loads((out / MARKER_NAME).read_text())["entries"]
    assert json.loads((out / "compress" / "report.json").read_text())["model"] == str((out / "tiny.keras").resolve())
    (out / "compress" / "my_notes.md").write_text("mine")
    result = _run(model, out)
    one_line_refusal(result, "compress/my_notes.md was not written by tinycompress")
    assert (out / "compress" / "my_notes.md").read_text() == "mine"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out", "tiny.keras"], "a temporary was left"
