"""``python -m pylapse``: the ``pylapse`` command."""

import sys

from pylapse.cli import main

sys.exit(main())
