#!/usr/bin/env python3
"""Headless capture from capture_config.json: the same as `pylapse capture`."""

import sys

from pylapse.cli import main

if __name__ == "__main__":
    sys.exit(main(["capture", *sys.argv[1:]]))
