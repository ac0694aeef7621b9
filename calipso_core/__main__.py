"""``python -m calipso_core`` is the ``calipso`` command."""

import sys

from calipso_core.cli import main

sys.exit(main())
