"""One family of exceptions for the whole library.

Every error a user can cause is a ``TinyCompressError`` whose message is one
line naming the problem and the fix. The CLI maps it to ``error: <message>``
and the class's ``exit_code``; anything else is a bug and gets a traceback
hint instead.
"""

from __future__ import annotations


class TinyCompressError(Exception):
    """Base of every error the library raises on purpose."""

    exit_code = 1


class InputError(TinyCompressError):
    """A file, data set, recipe or option given by the user is unusable."""

    exit_code = 2


class ModelFormatError(InputError):
    """A model file is missing, truncated, corrupt or of the wrong kind."""


class DataError(InputError):
    """A data set does not match the model (shape, labels, NaN/inf)."""


class RecipeError(InputError):
    """A compression recipe has an unknown key or a value out of range."""


class UnsupportedError(TinyCompressError):
    """The model uses a layer or operator we cannot handle."""

    exit_code = 3


class BoardError(TinyCompressError):
    """Unknown board, or the model does not fit the board."""

    exit_code = 4


class ToolError(TinyCompressError):
    """An external tool (compiler, PlatformIO, QEMU) is missing or failed."""

    exit_code = 5


class LinkError(TinyCompressError):
    """The serial link to the device failed: silent, vanished or corrupt."""

    exit_code = 6


class DeviceError(TinyCompressError):
    """The device answered with an error code."""

    exit_code = 7


class VerificationError(TinyCompressError):
    """Generated code disagrees with the reference interpreter."""

    exit_code = 8


class CheckFailedError(TinyCompressError):
    """A compression run finished but missed a promise it verifies (sparsity, clusters).

    The outputs are written: the failure is in what they hold, and a script
    must see it in the exit status.
    """

    exit_code = 9


class BudgetError(TinyCompressError):
    """``tinycompress tune`` found no trial meeting the budget.

    The outputs (every trial, the Pareto front) are written; the message names
    the constraint the closest trial misses and by how much.
    """

    exit_code = 10
