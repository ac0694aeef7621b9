"""``make demo``: the main job on the embedded defaults.

Sets up the embedded database and shows the installed plugins and what they contribute.
"""

from __future__ import annotations

import sys

from calipso_core.cli import main as calipso


def main() -> int:
    for args in (["db", "upgrade"], ["plugins"]):
        print(f"$ calipso {' '.join(args)}", flush=True)
        status = calipso(args)
        if status:
            return status
    return 0


if __name__ == "__main__":
    sys.exit(main())
