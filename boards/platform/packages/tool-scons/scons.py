"""PlatformIO's entry point for SCons, served by the PyPI ``scons`` package.

PlatformIO runs ``<tool-scons>/scons.py`` with its own Python; that Python
has ``scons`` installed as a dependency of tinycompress.
"""

import sys

from SCons.Script.Main import main

if __name__ == "__main__":
    sys.exit(main())
