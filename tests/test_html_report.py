"""The HTML report: kind detection, one-line refusals, and the pages as headless Chromium draws them.

``fixtures/demo_run_report.json`` is the report.json of a real ``tinycompress
demo --limit 40`` run; it holds the other two kinds (``compress``: its
compress report, ``device``: its profile report), and partial reports are
made from it the way ``run.py`` and the profiler make them.
"""

from __future__ import annotations

import contextlib
import copy
import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from shared_checks import one_line_refusal, tiny_digits_cnn
from tinycompress.cli import main
from tinycompress.errors import InputError
from tinycompress.fsutil import MARKER_NAME
from tinycompress.report import KINDS, detect_kind, render_html

pytestmark = pytest.mark.host

FIXTURE = Path(__file__).parent / "fixtures" / "demo_run_report.json"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]


def _demo_run() -> dict[str, Any]:
    return json.loads(FIXTURE.read_text())


def _run_stopped_before_device() -> dict[str, Any]:
    """What run.py writes when the build or the device failed after compression."""
    run = _demo_run()
    return {"tinycompress": run["tinycompress"], "model": run["model"], "board": run["board"], "complete": False,
            "stopped": "building the firmware failed (pio exit 1)", "timing_s": {"compress": 10.5},
            "versions": run["versions"], "compress": run["compress"]}


def _profile_lost_device() -> dict[str, Any]:
    """What the profiler writes when the device stops answering part-way."""
    profile = copy.deepcopy(_demo_run()["device"])
    profile.update(complete=False, stopped="device silent for 15 s", samples_requested=360)
    return profile


# --- kinds ----------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("report", "kind"), [
    (lambda: _demo_run(), "run"),
    (lambda: _run_stopped_before_device(), "run"),
    (lambda: _demo_run()["compress"], "compress"),
    (lambda: _demo_run()["device"], "profile"),
    (lambda: _profile_lost_device(), "profile"),
], ids=["run", "run-stopped-before-device", "compress", "profile", "profile-lost-device"])
def test_the_kind_is_found_from_the_keys(report, kind: str) -> None:
    assert detect_kind(report()).name == kind


def test_each_kind_is_told_apart_by_keys_the_others_lack() -> None:
    """A kind whose keys another kind's report also holds would shadow it, whatever the registry order."""
    run = _demo_run()
    samples = {"run": run, "compress": run["compress"], "profile": run["device"],
               "tune": json.loads((Path(__file__).parent / "fixtures" / "tune_report.json").read_text())}
    assert sorted(samples) == sorted(kind.name for kind in KINDS)
    for kind in KINDS:
        holders = {name for name, report in samples.items() if kind.keys <= report.keys()}
        assert holders == {kind.name}, (kind.name, holders)


def test_a_report_of_no_known_kind_is_refused_naming_the_kinds() -> None:
    with pytest.raises(InputError, match=r"not a report tinycompress knows .*run: .*profile: .*compress: "):
        detect_kind({"accuracy": 0.9, "board": "qemu-netduinoplus2"}, "x.json")


# --- the command ----------------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("content", "words"), [
    ("{\"accuracy\": ", ("is not JSON", "line 1, column 14")),
    ("[1, 2]", ("holds a JSON list, not a report",)),
    ("{\"hello\": \"world\"}", ("is not a report tinycompress knows",)),
    (None, ("does not exist",)),
], ids=["truncated", "list", "unknown-keys", "missing"])
def test_report_refuses_what_is_not_a_report_in_one_line(tmp_path: Path, content: str | None,
                                                        words: tuple[str, ...]) -> None:
    given = tmp_path / "report.json"
    if content is not None:
        given.write_text(content)
    result = CliRunner().invoke(main, ["report", str(given)])
    one_line_refusal(result, str(given), *words, "give the report.json that tinycompress")
    assert not (tmp_path / "report.html").exists()


def test_report_refuses_a_known_kind_with_malformed_values_in_one_line(tmp_path: Path) -> None:
    run = _demo_run()
    run["device"]["layers"][0]["macs"] = "many"
    given = tmp_path / "edited.json"
    given.write_text(json.dumps(run))
    one_line_refusal(CliRunner().invoke(main, ["report", str(given)]), "has the keys of a run report",
                     "malformed content")
    assert not (tmp_path / "edited.html").exists()


def test_report_never_writes_over_the_report_it_draws(tmp_path: Path) -> None:
    given = tmp_path / "report.html"
    shutil.copyfile(FIXTURE, given)
    one_line_refusal(CliRunner().invoke(main, ["report", str(given)]), "would replace the report")
    assert given.read_bytes() == FIXTURE.read_bytes()


def test_report_writes_one_self_contained_file_beside_the_json(tmp_path: Path) -> None:
    given = tmp_path / "report.json"
    shutil.copyfile(FIXTURE, given)
    result = CliRunner().invoke(main, ["report", str(given)])
    assert result.exit_code == 0, result.output
    assert result.output.strip() == f"wrote {tmp_path / 'report.html'}"
    html = (tmp_path / "report.html").read_text()
    assert html.count("plotly.js v") == 1  # inlined once, whatever the number of plots
    assert "<script src" not in html and "<link" not in html
    assert html.count('<div class="plot">') == 4


# --- in a real browser ------------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def chromium():
    """Debian's chromium driven by Playwright (its own browser download is not used); closed whatever happens."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=shutil.which("chromium"), args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


_DRAWN = "() => [...document.querySelectorAll('.plot')].every(plot => plot.querySelector('.main-svg'))"
_POINTS = """[...document.querySelectorAll('.js-plotly-plot')].map(plot =>
    [...plot.querySelectorAll('g.trace.bars g.point path')].filter(bar => {
        const box = bar.getBBox(); return box.width > 0 && box.height > 0; }).length)"""


def _open(browser: Any, html: Path, screenshot: Path) -> dict[str, Any]:
    """What the page shows once loaded: drawn bars per plot, notes, first table; errors and requests seen."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    page = browser.new_page(viewport={"width": 1200, "height": 900})
    errors: list[str] = []
    requests: list[str] = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("request", lambda request: requests.append(request.url))
    try:
        page.goto(html.as_uri())
        # A function, not an expression: polling an expression needs eval, which the page's CSP forbids.
        with contextlib.suppress(PlaywrightTimeout):  # plots that never draw: the assertions say what is missing
            page.wait_for_function(_DRAWN, timeout=10_000)
        seen = {
            "points": page.evaluate(_POINTS),
            "notes": [note.inner_text() for note in page.locator(".note").all() if note.is_visible()],
            "key_figures": page.locator("table").first.inner_text(),
        }
        page.screenshot(path=str(screenshot), full_page=True)
    finally:
        page.close()
    return {**seen, "errors": errors, "requests": requests}


# Bars each plot must draw for the fixture: accuracy stages; sizes (.tflite float32, int8, weights, arena) or
# flash and RAM (used and free each); then per layer (4 compressed layers; 6 profiled layers, all with MACs).
PAGES = {
    "compress": (lambda: _demo_run()["compress"], [4, 4, 4], None, "accuracy int8 (TFLM)\t97.50 %"),
    "run": (_demo_run, [5, 4, 6, 6], None, "accuracy int8, on the device\t97.50 %"),
    "profile-lost-device": (_profile_lost_device, [2, 4, 6, 6], "Partial report: the device was lost after 40 of 360",
                            "latency median (instructions)\t4,550,395"),
    "run-stopped-before-device": (_run_stopped_before_device, [4, 4, 4],
                                  "Partial report: the run stopped before the device figures (building the firmware",
                                  "accuracy clustered\t97.50 %"),
}


@pytest.mark.needs_tools("chromium")
@pytest.mark.parametrize("name", list(PAGES))
def test_the_page_draws_every_plot_offline_in_chromium(chromium: Any, tmp_path: Path, name: str) -> None:
    report, bars, note, key_figure = PAGES[name]
    given = tmp_path / "report.json"
    given.write_text(json.dumps(report()))
    assert CliRunner().invoke(main, ["report", str(given), "--quiet"]).exit_code == 0
    html = tmp_path / "report.html"
    screenshot = tmp_path / "report.png"

    seen = _open(chromium, html, screenshot)

    assert seen["errors"] == []
    assert seen["requests"] == [html.as_uri()]
    assert seen["points"] == bars
    assert key_figure in seen["key_figures"]
    if note is None:
        assert seen["notes"] == []
    else:
        assert any(text.startswith(note) for text in seen["notes"]), seen["notes"]
    assert screenshot.stat().st_size > 10_000


def test_a_label_cannot_escape_into_the_page(tmp_path: Path) -> None:
    """Layer names come from the model file: in tables and plots they stay text."""
    run = _demo_run()
    run["device"]["layers"][0]["name"] = "</script><script>alert(1)</script>"
    html = render_html(run)
    assert "<script>alert(1)" not in html
    assert "&lt;/script&gt;&lt;script&gt;alert(1)" in html


# --- written beside every report.json ---------------------------------------------------------------------------

FAST_RECIPE = """\
[prune]
target_sparsity = 0
[cluster]
clusters = 0
[quantize]
calibration_samples = 50
[finetune]
epochs = 1
batch_size = 64
"""


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A small digits CNN trained one epoch, and a recipe that only quantizes it: the chain, quickly."""
    return tiny_digits_cnn(tmp_path_factory.mktemp("tiny"), "recipe.toml", FAST_RECIPE)


def _entries(folder: Path) -> list[str]:
    return json.loads((folder / MARKER_NAME).read_text())["entries"]


def _html_kind(html: Path) -> str:
    """The kind named in a written page's footer (``<footer>compress report from report.json, ...``)."""
    return html.read_text().split("<footer>", 1)[1].split(" report from ", 1)[0]


def test_compress_writes_its_html_into_its_output(tmp_path: Path, tiny_model: tuple[Path, Path]) -> None:
    """Inside the output and its marker: a later compress to the same OUT replaces it instead of refusing."""
    model, recipe = tiny_model
    out = tmp_path / "out"
    for _ in range(2):
        result = CliRunner().invoke(main, ["compress", str(model), "--data", "digits", "--recipe", str(recipe),
                                           "-o", str(out), "--quiet"])
        assert result.exit_code == 0, result.output
        assert "report.html" in _entries(out)
    assert _html_kind(out / "report.html") == "compress"


@pytest.mark.emulator
def test_run_and_profile_write_their_html_beside_their_reports(tmp_path: Path, tiny_model: tuple[Path, Path],
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    """run: OUT/report.html and OUT/compress/report.html in the markers; profile: PROJECT/report.html, which a
    new export into the project replaces like the report.json beside it."""
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    model, recipe = tiny_model
    out = tmp_path / "out"
    ran = CliRunner().invoke(main, ["run", str(model), "--data", "digits", "--board", "qemu-netduinoplus2",
                                    "--recipe", str(recipe), "--limit", "3", "-o", str(out), "--quiet"])
    assert ran.exit_code == 0, ran.output
    assert {"report.html", "compress/report.html"} <= set(_entries(out))
    assert "report.html" in _entries(out / "compress")
    assert (_html_kind(out / "report.html"), _html_kind(out / "compress" / "report.html")) == ("run", "compress")

    project = out / "project"
    profiled = CliRunner().invoke(main, ["profile", str(project), "--data", "digits", "--limit", "3", "--quiet"])
    assert profiled.exit_code == 0, profiled.output
    assert _html_kind(project / "report.html") == "profile"
    exported = CliRunner().invoke(main, ["export", str(out / "compress" / "model_int8.tflite"),
                                         "--board", "qemu-netduinoplus2", "-o", str(project)])
    assert exported.exit_code == 0, exported.output
    assert not (project / "report.html").exists() and not (project / "report.json").exists()
