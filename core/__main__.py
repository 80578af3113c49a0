import sys

from core.cli.commands import main

if __name__ == "__main__":  # a spawned process (multiprocessing) re-imports the main module: run nothing then
    sys.exit(main())
