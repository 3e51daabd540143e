"""`python -m monitor.cli`: the same as the `pqwatch` command."""

import sys

from monitor.cli.commands import main

sys.exit(main())
