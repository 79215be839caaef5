"""`python -m gradkit ...`: the same as the `gradkit` command."""

import sys

from .cli import main

if __name__ == "__main__":
    sys.exit(main())
