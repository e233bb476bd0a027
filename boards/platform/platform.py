"""PlatformIO development platform for tinycompress's QEMU-emulated boards.

PlatformIO loads this class by name (``TinycompressqemuPlatform`` for the
platform name ``tinycompress-qemu``). It only switches on the toolchain
package that matches the board's architecture; the packages themselves are
local folders linking the system compilers (``platform_packages`` in the
generated ``platformio.ini``), so nothing is downloaded.
"""

from platformio.public import PlatformBase

_TOOLCHAINS = {"arm": "toolchain-tcarm", "riscv": "toolchain-tcriscv"}


class TinycompressqemuPlatform(PlatformBase):
    def configure_default_packages(self, variables, targets):
        board = variables.get("board")
        if board:
            arch = self.board_config(board).get("build.arch")
            toolchain = _TOOLCHAINS.get(arch)
            if toolchain:
                self.packages[toolchain]["optional"] = False
        return super().configure_default_packages(variables, targets)
