"""Where tinycompress's non-Python parts live: boards/, templates/, firmware/.

The top-level folders of the source tree are the one source of truth; the
wheel and sdist build copies them into the package as ``tinycompress/_data/``
(see setup.py). This module is the only place that knows either location:
an installed package reads its own data, an editable install from a checkout
reads the checkout. A folder found nowhere, or missing a file every command
needs, is a clear error here rather than an empty board list or glob later.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache
from pathlib import Path

from tinycompress.errors import InputError, TinyCompressError

PACKAGE_DATA = Path(__file__).resolve().parent / "_data"
CHECKOUT = Path(__file__).resolve().parent.parent

# folder -> glob patterns that must each match something, so a partial folder is caught too
REQUIRED: dict[str, tuple[str, ...]] = {
    "boards": ("*.toml", "platform/platform.json"),
    "templates": ("platformio.ini.j2", "src/main.c.j2"),
    "firmware": ("runtime/include/tc_runtime.h", "runtime/src/*.c", "ports/include/tc_port.h",
                 "protocol/tc_proto.c"),
}

# Kernel folders of firmware/runtime/arch/ a build takes kernels from, most
# specific first, before src/, keyed by a board's ``runtime_arch``. The one
# table that runtime source selection (codegen), the project export, the host
# ``verify`` build and the on-core checker (tests/codegen/test_runtime_arch.py)
# read, so a core never misses the kernels of the folders below its own.
RUNTIME_ARCH_CHAINS: dict[str, tuple[str, ...]] = {
    "helium": ("helium", "cortex-m-dsp", "portable"),  # Cortex-M55: MVE and the DSP extension
    "cortex-m-dsp": ("cortex-m-dsp", "portable"),  # Cortex-M4/M7/M33
    "portable": ("portable",),  # plain C99: RISC-V, Xtensa, Cortex-M0, the host
}
# Boards without ``runtime_arch`` and the host build: kernels any C99 compiler builds.
DEFAULT_RUNTIME_ARCH = "portable"

_FIX = ("reinstall tinycompress (pip install --force-reinstall tinycompress-*.whl), or in a source checkout "
        "restore the folder (git checkout -- {name}) and use `pip install -e .`")


def search_roots() -> tuple[Path, ...]:
    """Installed package data first; then the checkout, recognised by its pyproject.toml."""
    if (CHECKOUT / "pyproject.toml").is_file():
        return PACKAGE_DATA, CHECKOUT
    return (PACKAGE_DATA,)


def locate(name: str, roots: Sequence[Path]) -> Path:
    """The first ``root/name`` that is a folder, checked for the files every command needs."""
    folder = next((root / name for root in roots if (root / name).is_dir()), None)
    fix = _FIX.format(name=name)
    if folder is None:
        looked = ", ".join(str(root / name) for root in roots)
        raise TinyCompressError(f"tinycompress's {name}/ folder is missing (looked in {looked}); {fix}")
    missing = [pattern for pattern in REQUIRED[name] if next(folder.glob(pattern), None) is None]
    if missing:
        raise TinyCompressError(f"tinycompress's {name}/ folder {folder} is incomplete: no {', '.join(missing)}; "
                                f"{fix}")
    return folder


@cache
def data_dir(name: str) -> Path:
    """``boards``, ``templates`` or ``firmware``, resolved once per process."""
    return locate(name, search_roots())


def boards_dir() -> Path:
    """Board definitions (``*.toml``)."""
    return data_dir("boards")


def platform_dir() -> Path:
    """The local PlatformIO platform emulated boards build with."""
    return boards_dir() / "platform"


def templates_dir() -> Path:
    """Jinja2 templates, laid out as a generated project."""
    return data_dir("templates")


def firmware_dir() -> Path:
    """The C sources: runtime, protocol and board ports."""
    return data_dir("firmware")


def runtime_dir() -> Path:
    """The int8 runtime (``include/``, ``src/``, ``arch/``)."""
    return firmware_dir() / "runtime"


def runtime_arch_folders(arch: str) -> list[Path]:
    """The firmware/runtime/arch/ folders a build for ``arch`` searches, most specific first."""
    chain = RUNTIME_ARCH_CHAINS.get(arch)
    if chain is None:
        raise InputError(f"no runtime kernels for arch {arch!r}; known: {', '.join(sorted(RUNTIME_ARCH_CHAINS))}")
    return [runtime_dir() / "arch" / folder for folder in chain]


def ports_dir() -> Path:
    """Board ports, one folder per family plus ``include/``."""
    return firmware_dir() / "ports"


def protocol_dir() -> Path:
    """The device side of the serial protocol."""
    return firmware_dir() / "protocol"
