"""The ``tinycompress`` command: a thin click layer over the library.

Each subcommand lives in its own module here and exposes ``command``. Modules
import heavy libraries (TensorFlow) inside the command function, so
``tinycompress --help`` and ``tinycompress boards`` stay fast.
"""

from __future__ import annotations

import importlib
import os

import click

from tinycompress import __version__
from tinycompress.cli._common import run_guarded

# Subcommand name -> module under tinycompress.cli. Order is the --help order.
COMMANDS: dict[str, str] = {
    "compress": "compress",
    "verify": "verify",
    "inspect": "inspect",
    "boards": "boards",
    "export": "export",
    "build": "build",
    "flash": "flash",
    "profile": "profile",
    "run": "run",
    "demo": "demo",
    "tune": "tune",
    "report": "report",
}


class _Group(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:  # noqa: D102 - pipeline order, not alphabetical
        return list(COMMANDS)

    def invoke(self, ctx: click.Context):  # noqa: D102 - click hook
        return run_guarded(ctx, lambda: super(_Group, self).invoke(ctx))


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="tinycompress")
@click.option("--debug", is_flag=True, help="Show full tracebacks on errors, and TensorFlow's own log lines.")
@click.pass_context
def main(ctx: click.Context, debug: bool) -> None:
    """Compress a Keras model, compile it to C, run it on a microcontroller.

    \b
    Typical flow:
      tinycompress compress model.keras --data digits -o out/
      tinycompress verify out/model_int8.tflite
      tinycompress export out/model_int8.tflite --board qemu-netduinoplus2 -o proj/
      tinycompress build proj/ && tinycompress profile proj/ --data digits
    or all at once:
      tinycompress run model.keras --data digits --board qemu-netduinoplus2 -o out/
    """
    ctx.ensure_object(dict)
    ctx.obj["debug"] = debug
    if debug:  # read when TensorFlow is first imported: show its logs too
        os.environ["TINYCOMPRESS_DEBUG"] = "1"


for _name, _module in COMMANDS.items():
    main.add_command(importlib.import_module(f"tinycompress.cli.{_module}").command, _name)
