"""``calipso env``: add, list and show environments (secrets are never shown)."""

from __future__ import annotations

import json
from pathlib import Path

from rich.console import Console
from rich.table import Table

from calipso_core import environments
from calipso_core.errors import ConfigError


def register(commands) -> None:
    parser = commands.add_parser("env", help="manage environments")
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    add = actions.add_parser("add", help="validate an environment file (JSON) and store it")
    add.add_argument("file", type=Path)
    add.add_argument("--replace", action="store_true", help="overwrite an environment of that name")
    add.set_defaults(run=run_add)
    listing = actions.add_parser("list", help="list the environments")
    listing.add_argument("--format", choices=("table", "json"), default="table")
    listing.set_defaults(run=run_list)
    show = actions.add_parser("show", help="show one environment, secrets masked")
    show.add_argument("name")
    show.set_defaults(run=run_show)


def read_environment_file(path: Path) -> dict:
    try:
        return json.loads(path.read_text())
    except OSError as error:
        raise ConfigError(f"cannot read {path}: {error.strerror}") from None
    except json.JSONDecodeError as error:
        raise ConfigError(f"{path} is not JSON: line {error.lineno} column {error.colno}: {error.msg}") from None


def run_add(app, args) -> int:
    doc = read_environment_file(args.file)
    environments.validate(doc, app.config_sections)
    app.plugins.require(doc.get("plugins", []))
    doc.setdefault("environment_type", "OpenStack")
    doc.setdefault("scanned", False)
    app.environments.save(doc, replace=args.replace)
    Console().print(f"environment {doc['name']} added", highlight=False)
    return 0


def run_list(app, args) -> int:
    docs = app.environments.list()
    rows = [
        {key: doc.get(key) for key in
         ("name", "distribution", "distribution_version", "mechanism_drivers", "type_drivers", "scanned", "listen")}
        for doc in docs
    ]
    if args.format == "json":
        print(json.dumps(rows, indent=2))
        return 0
    table = Table(title="Environments")
    for column in rows[0] if rows else ("name",):
        table.add_column(column)
    for row in rows:
        table.add_row(*(", ".join(v) if isinstance(v, list) else str(v) for v in row.values()))
    Console().print(table)
    return 0


def run_show(app, args) -> int:
    doc = environments.mask_secrets(app.environments.get(args.name), app.config_sections)
    print(json.dumps(doc, indent=2))
    return 0
