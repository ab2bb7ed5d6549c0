"""``python -m mlal ...``: the command line of :mod:`mlal.cli` (what the ``mlal`` console command runs).

This is also the form for launchers that start a module: ``accelerate launch -m mlal ...`` and
``torchrun -m mlal ...``.
"""

import sys

from mlal.cli import main

if __name__ == "__main__":
    # Under -m, argv[0] is the path of this file: name the command as typed in --help and in the recorded command.
    sys.argv[0] = "python -m mlal"
    sys.exit(main())
