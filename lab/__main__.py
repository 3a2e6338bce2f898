"""Entry point: ``python -m lab <command>``."""
import sys

from lab.cli import main

sys.exit(main())
