"""The search: real trials on Ray Tune, proposed by Optuna's TPE, logged as they finish.

Each trial is a :func:`tinycompress.run.run` into ``OUT/trials/<trial id>/``
with the trial's recipe: compression, int8 accuracy on the TFLM interpreter,
export and build for the board (flash and RAM from the ELF), and latency
measured on the emulated board with every output checked against TFLM.

OUT is signed as a tune output at the start, with ``trials/`` owned, so a
killed tune leaves its trial log (``trials/log.jsonl``, one JSON line per
finished trial, appended and synced as each finishes) where ``--resume``
finds it. Resuming tells the searcher the logged trials with their scores
and runs only the remaining ones. The final outputs (tables, Pareto front,
the best trial's recipe and run outputs) replace OUT atomically, keeping
``trials/`` (hard links, so nothing is copied).
"""

from __future__ import annotations

import csv
import functools
import io
import json
import logging
import os
import shutil
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tinycompress.errors import BudgetError, InputError, TinyCompressError, ToolError
from tinycompress.fsutil import atomic_directory, check_output_dir, write_text_atomic
from tinycompress.progress import NullProgress, Progress
from tinycompress.tune.budget import OBJECTIVES, Budget, Miss, objective_value, score, trial_figures
from tinycompress.tune.space import SearchSpace, default_space, dump_toml

COMMAND = "tune"
TRIALS_DIR = "trials"
LOG_NAME = "log.jsonl"
SETTINGS_NAME = "settings.json"
SUMMARY_NAME = "tune.json"
RAY_STATE_PREFIX = ".ray-"
SEED = 0  # the TPE sampler's: the same command proposes the same recipes


@dataclass(frozen=True)
class TuneResult:
    """What a tune found: every finished trial (log order), the Pareto front and the best in budget."""

    out_dir: Path
    trials: list[dict[str, Any]]
    pareto: list[dict[str, Any]]
    best: dict[str, Any] | None


@dataclass(frozen=True)
class _TrialSettings:
    """Everything a trial needs on a Ray worker (pickled there): absolute paths only."""

    model: str
    data: str
    board: str
    trials_dir: str
    limit: int
    optimize: str
    trust_model: bool
    space: SearchSpace
    budget: Budget
    objective: str


def tune(
    model_path: str | Path,
    data_spec: str | Path,
    board_name: str,
    out_dir: str | Path,
    budget: Budget,
    *,
    trials: int = 20,
    objective: str = "latency",
    space: SearchSpace | None = None,
    concurrency: int | None = None,
    ray_address: str | None = None,
    resume: bool = False,
    limit: int = 20,
    optimize: str = "balanced",
    trust_model: bool = False,
    progress: Progress | None = None,
) -> TuneResult:
    """Search recipes for ``model_path`` on ``board_name`` within ``budget``; outputs in ``out_dir``.

    Raises :class:`BudgetError` (after writing the outputs) when no trial
    meets the budget, naming the closest miss.
    """
    from tinycompress.project import get_board
    from tinycompress.project.export import project_owned

    board = get_board(board_name)
    if not board.emulated:
        raise InputError(f"tune measures every trial on an emulated board, and {board.name} is a real one; "
                         "tune on its emulated sibling (see `tinycompress boards`) and `tinycompress run` the recipe")
    if objective not in OBJECTIVES:
        raise InputError(f"objective {objective!r} is not one of {', '.join(OBJECTIVES)}")
    if trials < 1 or limit < 1 or (concurrency is not None and concurrency < 1):
        raise InputError("--trials, --limit and --concurrency must be at least 1")
    model = Path(model_path).resolve()
    if not model.is_file():
        raise InputError(f"model {model_path} not found; give a .keras, .h5 or SavedModel file")
    data = str(Path(data_spec).resolve()) if Path(data_spec).exists() else str(data_spec)
    space = space or default_space(model)
    progress = progress or NullProgress()
    out = check_output_dir(out_dir, COMMAND, inputs=(model, data_spec))
    log_path = out / TRIALS_DIR / LOG_NAME
    # What the logged figures depend on: a resume must not change it (the budget and objective it may).
    settings = {"model": str(model), "data": data, "board": board.name, "limit": limit, "optimize": optimize,
                "space": [param.describe() for param in space.params], "fixed": space.fixed}
    if resume:
        finished = [judge(record, budget, objective) for record in _resume_log(out, settings)]
    else:
        with atomic_directory(out, COMMAND, owned=[TRIALS_DIR]) as tmp:
            (tmp / TRIALS_DIR).mkdir()
            write_text_atomic(tmp / TRIALS_DIR / SETTINGS_NAME, json.dumps(settings, indent=2) + "\n")
            (tmp / TRIALS_DIR / LOG_NAME).touch()
        finished = []
    remaining = trials - len(finished)
    if remaining > 0:
        trial = _TrialSettings(str(model), data, board.name, str(out / TRIALS_DIR), limit, optimize, trust_model,
                               space, budget, objective)
        _search(trial, finished, remaining, concurrency or _default_concurrency(remaining), ray_address,
                 log_path, progress)
    records = [judge(record, budget, objective) for record in _read_log(log_path)]
    if len(records) < trials:
        raise ToolError(f"{trials - len(records)} of {trials} trials stopped inside Ray without a result (a lost "
                        f"worker or node); `tinycompress tune ... --resume -o {out}` runs them again")
    result = _write_outputs(out, records, budget, objective, [f"project/{entry}" for entry in project_owned(board)])
    if result.best is None:
        raise BudgetError(_nothing_met(records, budget, out))
    return result


def _default_concurrency(remaining: int) -> int:
    """One trial per two cores (a trial trains with TensorFlow and runs QEMU), at least one."""
    return max(1, min(remaining, (os.cpu_count() or 1) // 2))


def _resume_log(out: Path, settings: dict[str, Any]) -> list[dict[str, Any]]:
    """The finished trials of the tune in ``out``, after checking it is the same search."""
    log_path = out / TRIALS_DIR / LOG_NAME
    try:
        earlier = json.loads((out / TRIALS_DIR / SETTINGS_NAME).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        raise InputError(f"nothing to resume in {out}: it holds no tune trial log; run without --resume") from None
    changed = [key for key in settings if earlier.get(key) != json.loads(json.dumps(settings[key]))]
    if changed:
        raise InputError(f"--resume: the {changed[0]} differs from the tune in {out}; give the same model, data, "
                         "board, --limit, --optimize and space, or run without --resume to start again")
    records = _read_log(log_path)
    # A kill mid-append leaves a torn last line: rewrite the log without it before appending.
    write_text_atomic(log_path, "".join(json.dumps(record) + "\n" for record in records))
    return records


def _read_log(path: Path) -> list[dict[str, Any]]:
    """The trial log's records; a torn last line (the write a kill interrupted) is left out."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise InputError(f"cannot read the trial log {path} ({exc.strerror}); run without --resume") from None
    records: list[dict[str, Any]] = []
    for number, line in enumerate(lines, 1):
        try:
            records.append(json.loads(line))
        except ValueError:
            if number < len(lines):
                raise InputError(f"trial log {path} line {number} is corrupt; run without --resume to start "
                                 "again") from None
    return records


def _append_log(path: Path, record: dict[str, Any]) -> None:
    """One record as one line, written in one call and synced: a kill loses at most this line."""
    data = (json.dumps(record) + "\n").encode("utf-8")
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o666)
    try:
        os.write(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)


def _search(trial: _TrialSettings, finished: list[dict[str, Any]], remaining: int, concurrency: int,
            ray_address: str | None, log_path: Path, progress: Progress) -> None:
    """Run ``remaining`` trials on Ray, the searcher warm-started with ``finished``; Ray is stopped whatever happens."""
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")  # no network unless a cluster is asked for
    os.environ.setdefault("RAY_AIR_NEW_OUTPUT", "0")  # with verbose=0: no experiment tables on the terminal
    os.environ.setdefault("TUNE_DISABLE_SIGINT_HANDLER", "1")  # Ctrl-C stops the command, as everywhere else
    import optuna
    import ray
    from ray import tune as ray_tune
    from ray.tune.search import ConcurrencyLimiter
    from ray.tune.search.optuna import OptunaSearch

    optuna.logging.set_verbosity(optuna.logging.WARNING)  # the CLI shows trials as a progress bar
    names = [param.name for param in trial.space.params]
    known = [(record["point"], record["score"]) for record in finished]
    # Ray's experiment state, inside the owned trials/ (shared by the nodes like the trial outputs), so a
    # killed tune litters nothing else; the next --resume clears what a killed one left.
    trials_dir = Path(trial.trials_dir)
    for stale in trials_dir.glob(f"{RAY_STATE_PREFIX}*"):
        shutil.rmtree(stale, ignore_errors=True)
    storage = tempfile.mkdtemp(prefix=RAY_STATE_PREFIX, dir=trials_dir)
    bar = progress.task(f"tune: {remaining} trials", remaining)
    try:
        if ray_address:
            ray.init(address=ray_address, log_to_driver=False, logging_level=logging.ERROR)
        else:
            ray.init(num_cpus=concurrency, include_dashboard=False, log_to_driver=False,
                     logging_level=logging.ERROR)
        # Seeded past the finished trials: the same seed would propose the logged recipes again.
        searcher = OptunaSearch(space=trial.space.distributions(), metric="score", mode="min",
                                seed=SEED + len(finished),
                                points_to_evaluate=[{name: point[name] for name in names} for point, _ in known]
                                or None,
                                evaluated_rewards=[value for _, value in known] or None)
        tuner = ray_tune.Tuner(
            ray_tune.with_resources(functools.partial(_run_trial, trial), {"cpu": 1}),
            tune_config=ray_tune.TuneConfig(search_alg=ConcurrencyLimiter(searcher, max_concurrent=concurrency),
                                            num_samples=remaining, max_concurrent_trials=concurrency),
            run_config=ray_tune.RunConfig(storage_path=storage, name="tune", verbose=0,
                                          callbacks=[_log_trials(log_path, len(finished), bar)]),
        )
        errors = tuner.fit().errors
        if errors:
            last = (str(errors[0]).strip().splitlines() or ["no message"])[-1]
            raise ToolError(f"{len(errors)} trials stopped with an error inside Ray ({last}); the finished trials "
                            "are logged, and --resume runs the others again")
    finally:
        bar.close()
        ray.shutdown()
        shutil.rmtree(storage, ignore_errors=True)


def judge(record: dict[str, Any], budget: Budget, objective: str) -> dict[str, Any]:
    """``record`` with what its figures miss of ``budget``, whether it meets it, and its score.

    Run again on resume: a tune resumed with another budget or objective judges its finished trials by it.
    """
    figures = record["figures"] if record["error"] is None else None
    misses = budget.misses(figures) if figures else []
    return {**record,
            "misses": [{"option": m.option, "value": m.value, "limit": m.limit, "unit": m.unit,
                        "relative": m.relative, "text": m.describe()} for m in misses],
            "meets_budget": figures is not None and not misses,
            "score": score(figures, misses, objective)}


def exit_with_parent(poll: float = 0.2) -> None:
    """End this process (``os._exit``) once its parent has died: a watcher thread, started once.

    Ray runs each trial in a worker process of its own process group, started by the node's
    raylet. When a tune is killed outright (``kill -9``, the OOM killer) its local Ray node goes
    with it, but a busy worker only notices when it next talks to the raylet: for seconds it
    went on with its trial and could publish that trial's folder into the output after the tune
    was gone, or while a ``--resume`` was starting. Its QEMU dies with it (``project.qemu``).
    """
    global _watching
    if _watching:
        return
    parent = os.getppid()

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(poll)
        os._exit(1)

    threading.Thread(target=watch, name="tinycompress-parent-watch", daemon=True).start()
    _watching = True


_watching = False  # exit_with_parent's thread runs in this process


def _run_trial(settings: _TrialSettings, config: dict[str, Any]) -> None:
    """One trial on a Ray worker: the whole chain with the proposed recipe, reported as a JSON record."""
    from ray import tune as ray_tune

    from tinycompress.run import run

    exit_with_parent()

    trial_id = ray_tune.get_context().get_trial_id()
    point = {name: config[name] for name in sorted(config)}
    optimize = settings.space.optimize(point, settings.optimize)
    figures: dict[str, Any] | None = None
    error: str | None = None
    try:
        report = run(settings.model, settings.data, settings.board, Path(settings.trials_dir) / trial_id,
                     settings.space.recipe(point), limit=settings.limit, optimize=optimize,
                     trust_model=settings.trust_model).report
        figures = trial_figures(report)
        if not figures["bit_exact"]:
            error = "the device outputs differ from the TFLM interpreter's"
    except TinyCompressError as exc:
        error = str(exc)
    record = judge({"trial": trial_id, "point": point, "recipe": settings.space.recipe_dict(point),
                    "optimize": optimize, "figures": figures, "error": error}, settings.budget, settings.objective)
    ray_tune.report({"score": record["score"], "record": json.dumps(record)})


def _log_trials(path: Path, done: int, bar: Any) -> Any:
    """A Ray callback on the driver appending each finished trial to the log, numbered in finishing order.

    On the driver, not in the trial: on a cluster the trials run on other machines.
    """
    from ray.tune import Callback

    class LogTrials(Callback):
        def __init__(self) -> None:
            self.done = done

        def on_trial_complete(self, iteration: int, trials: list[Any], trial: Any, **info: Any) -> None:
            result = trial.last_result or {}
            if "record" not in result:
                return
            self.done += 1
            _append_log(path, {"number": self.done, **json.loads(result["record"])})
            bar.advance()

    return LogTrials()


# --- outputs -------------------------------------------------------------------------------------------------------

def _measured(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [record for record in records if record["figures"] is not None and record["error"] is None]


def pareto_front(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The measured trials no other beats on accuracy, flash and latency at once."""
    def key(record: dict[str, Any]) -> tuple[float, float, float]:
        figures = record["figures"]
        return -figures["accuracy"], figures["flash"], figures["latency"]

    measured = _measured(records)
    return [record for record in measured
            if not any(all(a <= b for a, b in zip(key(other), key(record))) and key(other) != key(record)
                       for other in measured)]


def best_trial(records: list[dict[str, Any]], objective: str) -> dict[str, Any] | None:
    """The trial meeting the budget with the best objective; ties go to accuracy, then flash."""
    met = [record for record in records if record["meets_budget"]]
    if not met:
        return None
    return min(met, key=lambda r: (objective_value(r["figures"], objective), -r["figures"]["accuracy"],
                                   r["figures"]["flash"]))


def _csv(records: list[dict[str, Any]]) -> str:
    names = sorted({name for record in records for name in record["point"]})
    figure_keys = ["accuracy", "accuracy_drop", "device_accuracy", "flash", "ram", "latency", "latency_unit",
                   "bit_exact"]
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["number", "trial", "meets_budget", "score", *figure_keys, *names, "misses", "error"])
    for record in records:
        figures = record["figures"] or {}
        writer.writerow([record["number"], record["trial"], record["meets_budget"], record["score"],
                         *(figures.get(key, "") for key in figure_keys), *(record["point"].get(n, "") for n in names),
                         "; ".join(miss["text"] for miss in record["misses"]), record["error"] or ""])
    return buffer.getvalue()


def _write_outputs(out: Path, records: list[dict[str, Any]], budget: Budget, objective: str,
                   project_owned: list[str]) -> TuneResult:
    """Tables, Pareto front, summary and the best trial's outputs, replacing OUT atomically (trials/ kept)."""
    from tinycompress.run import write_report

    front = pareto_front(records)
    best = best_trial(records, objective)
    summary = {"tune": {"objective": objective, "budget": budget.to_dict(), "trials": len(records)},
               "trials": records, "pareto": [record["number"] for record in front],
               "best": None if best is None else best["number"]}
    with atomic_directory(out, COMMAND, owned=[TRIALS_DIR, *project_owned]) as tmp:
        shutil.copytree(out / TRIALS_DIR, tmp / TRIALS_DIR, symlinks=True, copy_function=os.link)
        write_text_atomic(tmp / "trials.jsonl", "".join(json.dumps(record) + "\n" for record in records))
        write_text_atomic(tmp / "trials.csv", _csv(records))
        write_text_atomic(tmp / "pareto.json", json.dumps(front, indent=2) + "\n")
        write_report(tmp / SUMMARY_NAME, summary)
        if best is not None:
            source = out / TRIALS_DIR / best["trial"]
            for name in ("compress", "project"):
                shutil.copytree(source / name, tmp / name, symlinks=True, copy_function=os.link)
            for name in ("report.json", "report.html"):
                os.link(source / name, tmp / name)
            write_text_atomic(tmp / "recipe.toml", f"# tinycompress tune: trial {best['number']} ({best['trial']}), "
                                                   f"best {objective} within the budget; its weights were "
                                                   f"exported with --optimize {best['optimize']}\n\n"
                                                   + dump_toml(best["recipe"]))
    return TuneResult(out, records, front, best)


def _nothing_met(records: list[dict[str, Any]], budget: Budget, out: Path) -> str:
    """The BudgetError message: the trial closest to the budget and what it misses, or why none was measured."""
    measured = _measured(records)
    if not measured:
        first = next((record["error"] for record in records if record["error"]), "no figures")
        return (f"none of the {len(records)} trials was measured (first failure: {first}); fix that, then "
                f"rerun; every trial is in {out / 'trials.csv'}")
    closest = min(measured, key=lambda record: sum(miss["relative"] for miss in record["misses"]))
    misses = [Miss(m["option"], m["value"], m["limit"], m["unit"]) for m in closest["misses"]]
    return (f"none of the {len(records)} trials met the budget; the closest, trial {closest['number']}, misses "
            + "; ".join(miss.describe() for miss in misses)
            + f"; relax {misses[0].option} or search more (--trials, --space); every trial is in {out / 'trials.csv'}")
