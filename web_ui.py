#!/usr/bin/env python3
"""Start the pyLapse dashboard: the same as `pylapse web`."""

import sys

from pylapse.cli import main

if __name__ == "__main__":
    sys.exit(main(["web", *sys.argv[1:]]))
