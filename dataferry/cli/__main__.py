"""``python -m dataferry.cli``: the ``dataferry`` command."""

import sys

from dataferry.cli import main

sys.exit(main())
