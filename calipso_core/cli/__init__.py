"""The ``calipso`` command: one sub-command module per area."""

from __future__ import annotations

import argparse
import sys
import warnings

import sqlalchemy.exc
from rich.console import Console
from rich.markup import escape

from calipso_core import __version__
from calipso_core.cli import (
    db_cmd,
    env_cmd,
    lab_cmd,
    listen_cmd,
    manager_cmd,
    plugins_cmd,
    report_cmd,
    scan_cmd,
    serve_cmd,
    user_cmd,
)
from calipso_core.context import Calipso
from calipso_core.errors import CalipsoError, DatabaseError

UNDEFINED_TABLE = "42P01"

COMMAND_MODULES = (plugins_cmd, db_cmd, env_cmd, scan_cmd, lab_cmd, report_cmd, serve_cmd, user_cmd, listen_cmd,
                   manager_cmd)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="calipso", description="Discover a virtualized data centre and keep it as one live graph."
    )
    parser.add_argument("--version", action="version", version=f"calipso {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for module in COMMAND_MODULES:
        module.register(commands)
    return parser


def report(error: CalipsoError) -> int:
    Console(stderr=True, soft_wrap=True).print(f"[bold red]error:[/] {escape(str(error))}", highlight=False)
    return 1


def main(argv: list[str] | None = None) -> int:
    # oslo.messaging pulls in eventlet, which warns on import; nothing here uses it.
    warnings.filterwarnings("ignore", message=".*[Ee]ventlet.*")
    warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR.*")
    args = build_parser().parse_args(argv)
    app = Calipso()
    try:
        return args.run(app, args) or 0
    except CalipsoError as error:
        return report(error)
    except sqlalchemy.exc.ProgrammingError as error:
        if getattr(error.orig, "pgcode", None) != UNDEFINED_TABLE:
            raise
        return report(DatabaseError("the database has no Calipso schema yet: run 'calipso db upgrade'"))
    except sqlalchemy.exc.OperationalError as error:
        return report(DatabaseError(f"cannot use the database: {str(error.orig).strip()}"))
    finally:
        app.close()


if __name__ == "__main__":
    sys.exit(main())
