#!/usr/bin/env python3
"""Headless capture from capture_config.json: the same as `pylapse capture`.

Without --config it reads $PYLAPSE_CAPTURE_CONFIG, then $PYLAPSE_CONFIG, then the
capture_config.json beside this script (where pyLapse 0.2 looked), then the current folder's.
"""

import os
import sys

from pylapse.cli import main

if __name__ == "__main__":
    here = os.path.dirname(os.path.abspath(__file__))
    sys.exit(main(["capture", "--beside", here, *sys.argv[1:]]))
