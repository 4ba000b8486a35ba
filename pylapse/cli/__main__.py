import sys

from pylapse.cli import main

sys.exit(main())
