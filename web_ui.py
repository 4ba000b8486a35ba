#!/usr/bin/env python3
"""Start the pyLapse dashboard: the same as `pylapse web`.

Works from a plain checkout too: the `web` command is handed to the CLI here, so it does not
depend on the package's entry points being installed.
"""

import sys

from pylapse.cli import main
from web import cli as web_cli

if __name__ == "__main__":
    sys.exit(main(["web", *sys.argv[1:]], extra=[web_cli]))
