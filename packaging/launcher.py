"""Entry point of the frozen app: the same `playground` command line (no arguments: the GUI)."""

import multiprocessing
import sys

if __name__ == "__main__":
    # Worker processes (data loaders, accelerate) re-run this executable; let them through.
    multiprocessing.freeze_support()
    from playground.cli.main import main

    sys.exit(main())
