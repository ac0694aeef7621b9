"""``calipso user``: add, list and remove the users of the REST API. Passwords are
asked without echo (or read from standard input) and never printed."""

from __future__ import annotations

import getpass
import json
import sys

from rich.console import Console
from rich.table import Table

from calipso_core.errors import ConfigError
from calipso_core.users import READ_ONLY, ROLES, Users


def register(commands) -> None:
    parser = commands.add_parser("user", help="manage the users of the REST API")
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    add = actions.add_parser("add", help="add a user (asks the password)")
    add.add_argument("name")
    add.add_argument("--role", choices=ROLES, default=READ_ONLY, help=f"default {READ_ONLY}")
    add.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
    add.add_argument("--replace", action="store_true", help="change the password and role of an existing user")
    add.set_defaults(run=run_add)
    listing = actions.add_parser("list", help="list the users and their roles")
    listing.add_argument("--format", choices=("table", "json"), default="table")
    listing.set_defaults(run=run_list)
    remove = actions.add_parser("remove", help="remove a user and their tokens")
    remove.add_argument("name")
    remove.set_defaults(run=run_remove)


def read_password(from_stdin: bool) -> str:
    """The new password: the first line of standard input, or asked twice."""
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    if not sys.stdin.isatty():
        raise ConfigError("no terminal to ask the password on: use --password-stdin")
    password = getpass.getpass("Password: ")
    if getpass.getpass("Password again: ") != password:
        raise ConfigError("the two passwords differ")
    return password


def run_add(app, args) -> int:
    user = Users(app.engine).add(args.name, read_password(args.password_stdin), args.role, replace=args.replace)
    Console().print(f"user {user.name} ({user.role}) {'updated' if args.replace else 'added'}", highlight=False)
    return 0


def run_list(app, args) -> int:
    rows = Users(app.engine).list()
    if args.format == "json":
        print(json.dumps([{**row, "created_at": row["created_at"].isoformat()} for row in rows], indent=2))
        return 0
    table = Table(title="API users")
    for column in ("name", "role", "created"):
        table.add_column(column)
    for row in rows:
        table.add_row(row["name"], row["role"], row["created_at"].strftime("%Y-%m-%d %H:%M"))
    Console().print(table)
    return 0


def run_remove(app, args) -> int:
    Users(app.engine).remove(args.name)
    Console().print(f"user {args.name} removed", highlight=False)
    return 0
