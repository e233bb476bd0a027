"""Atomic outputs that only ever replace what tinycompress wrote.

Everything is written to a temporary path beside the target, then renamed,
so a failed or interrupted run never leaves a half-written file or directory
where the user asked for the output. Every output directory ends with a
marker (``.tinycompress.json``: tool, version, command, and the list of
paths written), and an existing directory is replaced only when its marker
proves it is an earlier output of the same command holding nothing else.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import tempfile
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from tinycompress import __version__
from tinycompress.errors import InputError

MARKER_NAME = ".tinycompress.json"
TOOL = "tinycompress"
NAME_MAX = 255
# A temporary is ".<stem>.<pid>.<8 random chars>.tmp"; the stem is the target
# name cut so that the whole fits NAME_MAX whatever the pid (up to 10 digits).
_STEM_MAX = NAME_MAX - len("." + "." + "0" * 10 + "." + "x" * 8 + ".tmp")
# A temporary whose process is gone is left alone this long, in case its
# writer runs on another machine sharing the file system.
STALE_AFTER_S = 300.0


def _stem(name: str) -> str:
    return os.fsdecode(os.fsencode(name)[:_STEM_MAX])


def _temp_names(target: Path) -> dict[str, str]:
    """``tempfile`` arguments for a temporary beside ``target``, named after it and after us."""
    return {"prefix": f".{_stem(target.name)}.{os.getpid()}.", "suffix": ".tmp", "dir": str(target.parent)}


def _umask() -> int:
    """The process umask, from /proc where there is one: setting it to read it races with other threads."""
    with contextlib.suppress(OSError, ValueError, IndexError):
        for line in Path("/proc/self/status").read_text(encoding="ascii").splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _pid_alive(pid: int) -> bool:
    """Whether process ``pid`` may still run; on Windows signal 0 would stop it, so always yes there."""
    if os.name == "nt":
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError, ValueError):
        return True
    return True


def clean_stale_temporaries(target: str | os.PathLike[str]) -> list[Path]:
    """Remove temporaries of ``target`` left by a killed run; return what was removed.

    Only names of our own pattern for this very target qualify, and only when
    the process that made them is dead and they were untouched for
    :data:`STALE_AFTER_S`: a concurrent run's or a user's file is never touched.
    """
    target = Path(target).absolute()
    pattern = re.compile(rf"\.{re.escape(_stem(target.name))}\.(\d+)\.[a-z0-9_]{{8}}\.tmp")
    removed: list[Path] = []
    try:
        entries = list(os.scandir(target.parent))
    except OSError:
        return removed
    now = time.time()
    for entry in entries:
        match = pattern.fullmatch(entry.name)
        if match is None or _pid_alive(int(match[1])):
            continue
        with contextlib.suppress(OSError):
            if now - entry.stat(follow_symlinks=False).st_mtime < STALE_AFTER_S:
                continue
            if entry.is_dir(follow_symlinks=False):
                shutil.rmtree(entry.path)
            else:
                os.unlink(entry.path)
            removed.append(Path(entry.path))
    return removed


def _check_name(path: str | os.PathLike[str]) -> Path:
    """``path`` made absolute, or InputError if its name is longer than any file system allows."""
    target = Path(path).absolute()
    size = len(os.fsencode(target.name))
    if size > NAME_MAX:
        raise InputError(f"output name {target.name[:24]}… is {size} bytes long, more than the {NAME_MAX} "
                         "the file system allows; choose a shorter name")
    return target


def check_writable(path: str | os.PathLike[str]) -> None:
    """Fail now, not after the work, if ``path`` cannot be created where it is asked for.

    Checks the name's length and creates and removes a probe file in the
    nearest existing folder on the way to ``path``.
    """
    target = _check_name(path)
    folder = target.parent
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    try:
        fd, probe = tempfile.mkstemp(prefix=".tinycompress-probe.", dir=folder)
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        raise InputError(f"cannot write {target}: {folder} is not writable ({exc.strerror}); "
                         "choose another output path or fix its permissions") from None


def _raise(error: OSError) -> None:
    raise error


def _listing(root: Path, owned: Iterable[str]) -> list[str]:
    """Every path under ``root`` (relative, POSIX), not entering ``owned`` ones, in walk order."""
    skip = set(owned)
    found: list[str] = []
    for folder, dirs, files in os.walk(root, onerror=_raise):
        rel = Path(folder).relative_to(root)
        dirs.sort()
        for name in sorted(dirs + files):
            entry = (rel / name).as_posix()
            if entry not in skip and entry != MARKER_NAME:
                found.append(entry)
        dirs[:] = [name for name in dirs if (rel / name).as_posix() not in skip]
    return found


@dataclass(frozen=True)
class _Marker:
    command: str
    entries: frozenset[str]
    owned: tuple[str, ...]


def _read_marker(folder: Path) -> _Marker | None:
    """The marker of ``folder``, or None if it is absent, unreadable or not ours."""
    try:
        data = json.loads((folder / MARKER_NAME).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or data.get("tool") != TOOL or not isinstance(data.get("command"), str):
        return None
    entries, owned = data.get("entries"), data.get("owned")
    if not isinstance(entries, list) or not isinstance(owned, list):
        return None
    return _Marker(data["command"], frozenset(map(str, entries)), tuple(map(str, owned)))


def _write_marker(folder: Path, command: str, owned: Iterable[str]) -> None:
    """Sign ``folder`` as ``command``'s output; written last, so it lists everything."""
    owned = sorted(owned)
    marker = {"tool": TOOL, "version": __version__, "command": command,
              "entries": _listing(folder, owned), "owned": owned}
    write_text_atomic(folder / MARKER_NAME, json.dumps(marker, indent=2) + "\n")


def _refuse_foreign(target: Path, command: str) -> None:
    """InputError unless ``target`` is absent, empty, or wholly an earlier ``command`` output."""
    if not target.exists():
        return
    if not target.is_dir():
        raise InputError(f"output {target} is a file; give a directory path for -o")
    try:
        _refuse_unproven(target, command)
    except OSError as exc:
        raise InputError(f"cannot read {target} to check it holds only an earlier output ({exc.strerror}); "
                         "choose another -o") from None


def _refuse_unproven(target: Path, command: str) -> None:
    """The marker check proper: same command, and every entry of ``target`` listed or owned."""
    marker = _read_marker(target)
    if marker is None:
        first = next(iter(sorted(p.name for p in target.iterdir())), None)
        if first is None:
            return
        raise InputError(f"refusing to replace {target}: it is not empty and holds {first}, which tinycompress "
                         f"did not write (no valid {MARKER_NAME}); choose another -o or empty it")
    if marker.command != command:
        raise InputError(f"refusing to replace {target}: it holds the output of `tinycompress {marker.command}`, "
                         f"not of `tinycompress {command}`; choose another -o or empty it")
    for entry in _listing(target, marker.owned):
        if entry not in marker.entries:
            raise InputError(f"refusing to replace {target}: {entry} was not written by tinycompress; "
                             "choose another -o or empty it")


def check_output_dir(path: str | os.PathLike[str], command: str, *,
                     inputs: Iterable[str | os.PathLike[str]] = ()) -> Path:
    """Check, before any work, that ``command`` may write its output directory ``path``.

    Refuses a file, a folder holding anything tinycompress did not write
    there for ``command``, an ``inputs`` path (model, data) inside ``path``
    (replacing it would delete them) and an unwritable location; then removes
    stale temporaries a killed run left beside ``path``. Returns it resolved.
    """
    target = _check_name(path).resolve()
    for item in inputs:
        given = Path(item)
        if not os.path.lexists(given):
            continue
        where = {given.resolve(), Path(os.path.abspath(given)).parent.resolve() / given.name}
        if any(place == target or target in place.parents for place in where):
            raise InputError(f"the input {item} lies inside the output directory {target}, which the output "
                             "replaces; choose another -o")
    _refuse_foreign(target, command)
    check_writable(target)
    clean_stale_temporaries(target)
    return target


def write_bytes_atomic(path: str | os.PathLike[str], data: bytes) -> Path:
    """Write ``data`` to ``path`` through a temporary file and a rename, with the user's umask."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    clean_stale_temporaries(target)
    fd, tmp = tempfile.mkstemp(**_temp_names(target))
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    return target


def write_text_atomic(path: str | os.PathLike[str], text: str) -> Path:
    """Text flavour of :func:`write_bytes_atomic` (UTF-8)."""
    return write_bytes_atomic(path, text.encode("utf-8"))


def write_with_fallback(path: str | os.PathLike[str], text: str, what: str) -> Path:
    """Write ``text`` to ``path``; if that fails, keep it in the temp dir and say where.

    For results that took long to measure: losing them to a full disk or a
    revoked permission would cost the whole measurement again.
    """
    try:
        return write_text_atomic(path, text)
    except OSError as exc:
        fd, kept = tempfile.mkstemp(prefix=f"tinycompress-{what}-", suffix=Path(path).suffix)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        raise InputError(f"cannot write {path} ({exc.strerror}); the {what} was saved to {kept} instead") from None


@contextlib.contextmanager
def atomic_directory(path: str | os.PathLike[str], command: str, *, owned: Iterable[str] = ()) -> Iterator[Path]:
    """Yield a temporary directory that becomes ``path``, signed as ``command``'s output, only on success.

    ``owned`` are relative paths the output reserves for later tinycompress
    commands (a build folder, a profile report): whatever they hold is ours.
    On an exception the temporary directory is removed and ``path`` is left
    exactly as it was. An existing ``path`` is replaced only after the new
    content is complete, and only if it is an earlier ``command`` output
    (checked again here: the user may have put a file there meanwhile).
    """
    target = Path(path).resolve()
    target.parent.mkdir(parents=True, exist_ok=True)
    clean_stale_temporaries(target)
    tmp = Path(tempfile.mkdtemp(**_temp_names(target)))
    try:
        os.chmod(tmp, 0o777 & ~_umask())
        yield tmp
        _write_marker(tmp, command, owned)
        _refuse_foreign(target, command)
        _move_into_place(tmp, target)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def _move_into_place(tmp: Path, target: Path) -> None:
    """Rename ``tmp`` to ``target``; an old ``target`` goes to a temporary of ours first, then away."""
    if not target.exists():
        os.replace(tmp, target)
        return
    trash = Path(tempfile.mkdtemp(**_temp_names(target)))
    old = trash / "old"
    os.replace(target, old)
    try:
        os.replace(tmp, target)
    except BaseException:
        os.replace(old, target)
        os.rmdir(trash)
        raise
    shutil.rmtree(trash, ignore_errors=True)
