"""SCons build script of the tinycompress-qemu platform.

Compiles the project with the system cross compiler named by the board
manifest (``build.toolchain_prefix``), links with the project's linker
script, and defines ``upload`` as running the firmware in QEMU with the
command line the generated project carries in ``custom_qemu_args``.
"""

import shlex

from SCons.Script import AlwaysBuild, Default, DefaultEnvironment

env = DefaultEnvironment()
board = env.BoardConfig()

prefix = board.get("build.toolchain_prefix")
cpu_flags = shlex.split(board.get("build.cpu_flags", ""))
# --specs selects the C library; it sets include paths, so compile with it too
libc_flags = shlex.split(board.get("build.libc_flags", ""))

env.Replace(
    AR=prefix + "gcc-ar",
    AS=prefix + "gcc",
    CC=prefix + "gcc",
    CXX=prefix + "g++",
    GDB=prefix + "gdb",
    OBJCOPY=prefix + "objcopy",
    RANLIB=prefix + "gcc-ranlib",
    SIZETOOL=prefix + "size",
    ARFLAGS=["rc"],
    SIZEPROGREGEXP=r"^(?:\.isr_vector|\.text|\.rodata|\.ARM\.exidx|\.data)\s+(\d+).*",
    SIZEDATAREGEXP=r"^(?:\.data|\.bss|\.stack|\.stack_reserve)\s+(\d+).*",
    SIZECHECKCMD="$SIZETOOL -A -d $SOURCES",
    SIZEPRINTCMD="$SIZETOOL -B -d $SOURCES",
    PROGNAME="firmware",
    PROGSUFFIX=".elf",
)

env.Append(
    ASFLAGS=cpu_flags + libc_flags + ["-x", "assembler-with-cpp"],
    CCFLAGS=cpu_flags + libc_flags + ["-ffunction-sections", "-fdata-sections"],
    LINKFLAGS=cpu_flags + libc_flags + ["-nostartfiles", "-Wl,--gc-sections", "-Wl,--no-warn-rwx-segments"],
    LIBS=["m"],
)

program = env.BuildProgram()

qemu_args = shlex.split(env.GetProjectOption("custom_qemu_args", ""))
upload_port = env.subst("$UPLOAD_PORT")
serial = ["-serial", "tcp:%s,server=on,wait=on,nodelay=on" % upload_port if upload_port else "stdio"]
upload = env.Alias(
    "upload",
    program,
    env.VerboseAction(
        shlex.join(qemu_args + ["-kernel"]) + " $SOURCE " + shlex.join(serial),
        "Running $SOURCE in QEMU" + (" (serial on tcp:%s)" % upload_port if upload_port else ""),
    ),
)
AlwaysBuild(upload)

Default([program])
