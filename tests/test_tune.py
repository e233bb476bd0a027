"""``tinycompress tune``: search spaces and budgets on the host; real searches on local Ray and QEMU.

The emulator tests run a tiny digits CNN (one 4-filter convolution) through
4-trial searches, 2 trials at a time, profiling 5 samples per trial. Ray is
started by the command and must be gone after it: no raylet or gcs_server
may outlive a test.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from shared_checks import tiny_digits_cnn
from tinycompress.cli import main
from tinycompress.errors import InputError
from tinycompress.fsutil import MARKER_NAME
from tinycompress.tune.budget import Budget, trial_figures
from tinycompress.tune.search import best_trial, judge, pareto_front
from tinycompress.tune.space import default_space, parse_space

pytestmark = pytest.mark.host

BOARD = "qemu-netduinoplus2"
SPACE = """\
[prune]
target_sparsity = { min = 0.0, max = 0.6, step = 0.1 }
[cluster]
clusters = { choices = [0, 8] }
[quantize]
calibration_samples = 20
[finetune]
epochs = 1
"""
RAY_PROGRAMS = ("raylet", "gcs_server")


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """The smallest digits CNN, trained one epoch, and a space of 14 quick recipes."""
    return tiny_digits_cnn(tmp_path_factory.mktemp("tune"), "space.toml", SPACE)


def _tune_args(model: Path, space: Path, out: Path, *extra: str, trials: int = 4) -> list[str]:
    return ["tune", str(model), "--data", "digits", "--board", BOARD, "--space", str(space), "-o", str(out),
            "--trials", str(trials), "--concurrency", "2", "--limit", "5", *extra]


def _ray_processes() -> dict[int, str]:
    """Running raylet, gcs_server and Ray worker (``ray::...``, trials among them) processes (pid -> name),
    from /proc; zombies (exited, not yet reaped) do not count."""
    found: dict[int, str] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                name = (entry / "comm").read_text().strip()
                state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
            except (OSError, IndexError):
                continue
            if (name in RAY_PROGRAMS or name.startswith("ray::")) and state != "Z":
                found[int(entry.name)] = name
    return found


def _assert_no_ray_left(before: dict[int, str]) -> None:
    """Every Ray process started since ``before`` is gone (a few seconds' grace for exiting)."""
    deadline = time.monotonic() + 15
    while (left := set(_ray_processes()) - set(before)) and time.monotonic() < deadline:
        time.sleep(0.5)
    assert not left, f"Ray processes left running: {[_ray_processes().get(pid) for pid in left]}"


def test_a_trial_worker_exits_when_its_parent_dies(tmp_path: Path) -> None:
    """A killed tune's trial workers must not go on with their trials (and publish trial folders) after it."""
    worker = ("import sys, time; from tinycompress.tune.search import exit_with_parent; exit_with_parent(); "
              "print('watching', flush=True); time.sleep(120)")
    parent = ("import subprocess, sys, time; child = subprocess.Popen([sys.executable, '-c', sys.argv[1]], "
              "stdout=subprocess.PIPE, text=True); child.stdout.readline(); print(child.pid, flush=True); "
              "time.sleep(120)")
    started = subprocess.Popen([sys.executable, "-c", parent, worker], stdout=subprocess.PIPE, text=True,
                               start_new_session=True)
    child = 0
    try:
        child = int(started.stdout.readline())
        started.kill()  # the parent dies; the child, in its own group, is not signalled
        started.wait(10)
        deadline = time.monotonic() + 20
        while _alive(child) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not _alive(child), "the worker outlived its parent"
    finally:
        started.kill()
        if child and _alive(child):
            os.kill(child, signal.SIGKILL)


def _alive(pid: int) -> bool:
    try:
        return (Path("/proc") / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def _log(out: Path) -> list[dict]:
    return [json.loads(line) for line in (out / "trials" / "log.jsonl").read_text().splitlines()]


# --- host ---------------------------------------------------------------------------------------------------------

def _record(number: int, accuracy: float, flash: int, latency: float) -> dict:
    figures = {"accuracy": accuracy, "float_accuracy": 0.9, "accuracy_drop": round(100 * (0.9 - accuracy), 4),
               "device_accuracy": accuracy, "flash": flash, "ram": 1000, "latency": latency,
               "latency_unit": "instructions", "bit_exact": True}
    return {"number": number, "trial": f"t{number}", "point": {"prune.target_sparsity": 0.1 * number},
            "recipe": {}, "figures": figures, "error": None}


def test_budget_judges_trials_and_finds_the_front() -> None:
    """Misses name the option and the excess; the best meets every limit; dominated trials leave the front."""
    budget = Budget(max_flash=20_000, max_accuracy_drop=1.0)
    records = [judge(r, budget, "latency") for r in (_record(1, 0.895, 19_000, 900.0), _record(2, 0.80, 15_000, 500.0),
                                                     _record(3, 0.89, 25_000, 400.0), _record(4, 0.85, 19_500, 950.0))]
    assert [r["meets_budget"] for r in records] == [True, False, False, False]
    assert [m["option"] for m in records[1]["misses"]] == ["--max-accuracy-drop"]
    assert records[2]["misses"][0]["text"] == "--max-flash 20,000 by 5,000 B (25.0% over)"
    assert best_trial(records, "latency")["number"] == 1
    assert [r["number"] for r in pareto_front(records)] == [1, 2, 3]  # 4 is beaten by 1 on all three
    assert records[0]["score"] < min(r["score"] for r in records[1:])


def test_budget_takes_one_accuracy_limit() -> None:
    with pytest.raises(InputError, match="not both"):
        Budget(min_accuracy=0.9, max_accuracy_drop=1.0)


def test_trial_figures_read_a_run_report() -> None:
    report = json.loads((Path(__file__).parent / "fixtures" / "demo_run_report.json").read_text())
    figures = trial_figures(report)
    assert (figures["flash"], figures["ram"], figures["latency"]) == (38196, 11752, 4550395.0)
    assert figures["accuracy_drop"] == pytest.approx(100 * (0.9777777777777777 - 0.975), abs=1e-3)


def test_a_model_without_accuracy_fails_its_trial_with_the_reason() -> None:
    """An autoencoder's run report has mse, not accuracy: the trial is recorded as failed, saying why."""
    from tinycompress.errors import UnsupportedError

    report = json.loads((Path(__file__).parent / "fixtures" / "demo_run_report.json").read_text())
    del report["accuracy"], report["compress"]["accuracy"]
    report["task"] = "autoencoder"
    with pytest.raises(UnsupportedError, match="autoencoder model reports none"):
        trial_figures(report)


def test_space_file_errors_are_one_line(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="min 0.9 >= max 0.1"):
        parse_space({"prune": {"target_sparsity": {"min": 0.9, "max": 0.1}}})
    with pytest.raises(InputError, match=r"\[cluster\] clusters = 2 must be >= 3"):
        parse_space({"cluster": {"clusters": {"choices": [2, 16]}}})
    with pytest.raises(InputError, match="varies nothing"):
        parse_space({"finetune": {"epochs": 1}})
    space = parse_space({"prune": {"target_sparsity": {"min": 0.0, "max": 0.6, "step": 0.1}},
                         "finetune": {"epochs": 1}})
    recipe = space.recipe({"prune.target_sparsity": 0.30000000000000004})
    assert (recipe.prune.target_sparsity, recipe.finetune.epochs) == (0.3, 1)


def test_default_space_follows_the_layers(tiny: tuple[Path, Path]) -> None:
    """A convolution and a lone classifier Dense: channel and block pruning are searched, low-rank is not."""
    params = default_space(tiny[0]).params
    names = [param.name for param in params]
    assert names == ["prune.target_sparsity", "prune.block", "cluster.clusters", "quantize.mode", "storage.optimize",
                     "channels.keep"]
    assert params[1].choices == (1, 16)
    keep = params[-1].distribution()
    # docs/tune.md: only keep = 0.375 met the 24,000 B flash budget of the digits CNN; it must be reachable.
    assert keep.low <= 0.375 < keep.high and keep.step == 0.125


def test_storage_objective_is_searched_beside_the_recipe() -> None:
    """[storage] optimize goes to the export, not into the recipe, and takes only the storage objectives."""
    space = parse_space({"prune": {"target_sparsity": 0.2}, "storage": {"optimize": {"choices": ["size", "speed"]}}})
    point = {"storage.optimize": "size"}
    assert space.recipe_dict(point) == {"prune": {"target_sparsity": 0.2}}
    assert (space.optimize(point, "balanced"), space.recipe(point).prune.target_sparsity) == ("size", 0.2)
    with pytest.raises(InputError, match="optimize takes size, speed, balanced"):
        parse_space({"storage": {"optimize": {"choices": ["tiny"]}}})


def test_bad_options_fail_before_any_work(tmp_path: Path, tiny: tuple[Path, Path]) -> None:
    model, space = tiny
    out = tmp_path / "out"
    both = CliRunner().invoke(main, _tune_args(model, space, out, "--min-accuracy", "0.5",
                                               "--max-accuracy-drop", "1"))
    assert both.exit_code == 2 and "not both" in both.output, both.output
    nothing = CliRunner().invoke(main, _tune_args(model, space, out, "--resume"))
    assert nothing.exit_code == 2 and "nothing to resume" in nothing.output, nothing.output
    assert not out.exists()


@pytest.mark.needs_tools("chromium")
def test_tune_page_plots_every_trial_in_chromium(tmp_path: Path) -> None:
    """The tune kind: two scatters with a point per measured trial, the front, budget lines, no console error."""
    import shutil

    from playwright.sync_api import sync_playwright

    given = tmp_path / "tune.json"
    given.write_text((Path(__file__).parent / "fixtures" / "tune_report.json").read_text())
    assert CliRunner().invoke(main, ["report", str(given), "--quiet"]).exit_code == 0
    html = tmp_path / "tune.html"
    errors: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=shutil.which("chromium"),
                                             args=["--headless", "--no-sandbox", "--disable-gpu"])
        try:
            page = browser.new_page(viewport={"width": 1200, "height": 900})
            page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
            page.on("pageerror", lambda error: errors.append(str(error)))
            page.goto(html.as_uri())
            page.wait_for_function("() => document.querySelectorAll('.js-plotly-plot .main-svg').length >= 2",
                                   timeout=15_000)
            points = page.evaluate("""[...document.querySelectorAll('.js-plotly-plot')].map(plot =>
                plot.querySelectorAll('g.trace.scatter g.points path.point').length)""")
            budget_lines = page.evaluate("""[...document.querySelectorAll('.js-plotly-plot')].map(plot =>
                plot.querySelectorAll('g.shapelayer path').length)""")
            hover = page.content()
            page.screenshot(path=str(tmp_path / "tune.png"), full_page=True)
        finally:
            browser.close()
    assert errors == []
    assert points == [4, 4]  # latency and accuracy against flash, one point per trial
    assert budget_lines == [2, 1]  # --max-flash and --max-latency; --max-flash alone on the accuracy plot
    assert "prune.target_sparsity = 0.3" in hover  # the recipe travels with each point for the hover box
    assert (tmp_path / "tune.png").stat().st_size > 10_000


# --- emulator -----------------------------------------------------------------------------------------------------

@pytest.mark.emulator
def test_unmet_budget_names_the_closest_constraint(tmp_path: Path, tiny: tuple[Path, Path]) -> None:
    """No recipe fits 1,000 B of flash: exit 10, the message names --max-flash and the excess; trials are kept."""
    from tinycompress.errors import BudgetError

    model, space = tiny
    out = tmp_path / "out"
    before = _ray_processes()
    result = CliRunner().invoke(main, _tune_args(model, space, out, "--max-flash", "1000", trials=2))
    _assert_no_ray_left(before)
    assert result.exit_code == BudgetError.exit_code == 10, result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert lines[-1].startswith("error: none of the 2 trials met the budget") and "--max-flash 1,000 by" in lines[-1]
    assert "tune: 2 trials" in [line.strip() for line in lines]  # the trial table's title, above the error
    assert "Traceback" not in result.output
    assert len(_log(out)) == 2 and not (out / "recipe.toml").exists()
    summary = json.loads((out / "tune.json").read_text())
    assert summary["best"] is None and all(t["misses"][0]["option"] == "--max-flash" for t in summary["trials"])
    assert (out / "tune.html").stat().st_size > 0


@pytest.mark.emulator
def test_killed_tune_resumes_without_repeating_and_meets_the_budget(tmp_path: Path,
                                                                    tiny: tuple[Path, Path]) -> None:
    """SIGKILL after the first finished trial; --resume runs only the rest; the best recipe is ready in OUT."""
    from tinycompress.compress.recipe import load_recipe

    model, space = tiny
    out = tmp_path / "out"
    before = _ray_processes()
    args = _tune_args(model, space, out, "--max-flash", "200000", "--max-accuracy-drop", "100", "--quiet")
    killed = subprocess.Popen([str(Path(sys.executable).parent / "tinycompress"), *args], start_new_session=True,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 240
        log = out / "trials" / "log.jsonl"
        while not (log.exists() and log.read_text().strip()) and time.monotonic() < deadline:
            assert killed.poll() is None, "tune ended before a trial finished"
            time.sleep(0.5)
        killed.send_signal(signal.SIGKILL)
        killed.wait(30)
    finally:
        # What Ray started in the killed command's session outlives a SIGKILL (its agents): end that group.
        if killed.poll() is None:
            killed.kill()
        time.sleep(1)
        try:
            os.killpg(killed.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    _assert_no_ray_left(before)
    finished = (out / "trials" / "log.jsonl").read_text().splitlines()
    assert 1 <= len(finished) < 4
    dirs_before = {p.name for p in (out / "trials").iterdir() if p.is_dir() and not p.name.startswith(".")}

    resumed = CliRunner().invoke(main, args[:-1] + ["--resume"])
    _assert_no_ray_left(before)
    assert resumed.exit_code == 0, resumed.output
    records = _log(out)
    lines = (out / "trials" / "log.jsonl").read_text().splitlines()
    assert lines[:len(finished)] == finished  # the finished trials, untouched
    assert [r["number"] for r in records] == [1, 2, 3, 4]
    assert len({r["trial"] for r in records}) == 4
    new_dirs = {p.name for p in (out / "trials").iterdir() if p.is_dir() and not p.name.startswith(".")} - dirs_before
    assert new_dirs == {r["trial"] for r in records[len(finished):]}  # only the remaining trials ran
    assert len((out / "trials.csv").read_text().splitlines()) == 1 + 4

    summary = json.loads((out / "tune.json").read_text())
    best = next(r for r in records if r["number"] == summary["best"])
    assert best["meets_budget"] and best["figures"]["bit_exact"]
    assert best["figures"]["latency"] == min(r["figures"]["latency"] for r in records if r["meets_budget"])
    recipe = load_recipe(out / "recipe.toml")
    assert recipe.prune.target_sparsity == best["recipe"]["prune"]["target_sparsity"]
    assert recipe.cluster.clusters == best["recipe"]["cluster"]["clusters"]
    report = json.loads((out / "report.json").read_text())
    assert report["memory_bytes"]["flash_used"] == best["figures"]["flash"]
    assert (out / "compress" / "model_int8.tflite").is_file() and (out / "project" / "platformio.ini").is_file()
    assert {r["number"] for r in json.loads((out / "pareto.json").read_text())} == set(summary["pareto"])
    assert not list((out / "trials").glob(".ray-*"))  # Ray's experiment state went with the search
    entries = json.loads((out / MARKER_NAME).read_text())["entries"]
    assert {"recipe.toml", "report.json", "report.html", "tune.json", "tune.html", "trials.csv"} <= set(entries)
