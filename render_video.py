#!/usr/bin/env python3
"""Render a folder of frames to a video: the same as `pylapse render`."""

import sys

from pylapse.cli import main

if __name__ == "__main__":
    sys.exit(main(["render", *sys.argv[1:]]))
