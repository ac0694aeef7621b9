"""``calipso db``: bring the schema up to date and show where the database is."""

from __future__ import annotations

import json

from rich.console import Console

from calipso_core import db
from calipso_core.seed import seed_defaults


def register(commands) -> None:
    parser = commands.add_parser("db", help="set up and inspect the database")
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    upgrade = actions.add_parser("upgrade", help="apply the schema migrations and seed the defaults")
    upgrade.set_defaults(run=run_upgrade)
    status = actions.add_parser("status", help="where the database is and its schema revision")
    status.add_argument("--format", choices=("text", "json"), default="text")
    status.set_defaults(run=run_status)


def run_upgrade(app, args) -> int:
    db.upgrade(app.engine)
    seeded = seed_defaults(app.engine, app.plugins)
    state = db.status(app.engine)
    Console().print(
        f"database {state['url']} is at revision {state['current']}; "
        f"{seeded} default clique types and constants seeded",
        highlight=False,
    )
    return 0


def run_status(app, args) -> int:
    state = db.status(app.engine)
    if args.format == "json":
        print(json.dumps(state, indent=2))
    else:
        mark = "up to date" if state["up_to_date"] else "needs 'calipso db upgrade'"
        Console().print(
            f"database: {state['url']}\nrevision: {state['current']} (newest {state['head']}, {mark})\n"
            f"tables: {len(state['tables'])}",
            highlight=False,
        )
    return 0 if state["up_to_date"] else 1
