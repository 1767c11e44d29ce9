"""``python -m imugait``: the command line. Guarded so that a process that imports this module
(Dask's spawned workers re-import the parent's main module) does not run it."""

import sys

from imugait.cli import main

if __name__ == "__main__":
    sys.exit(main())
