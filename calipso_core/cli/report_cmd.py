"""``calipso report NAME ENV``: a plugin's report on an environment, as a table, CSV or JSON.

A plugin offers reports with a ``CALIPSO_REPORTS`` mapping in its plugin module: report
name -> ``report(app, env) -> list[dict]`` (one dict per row, JSON-able). Table and CSV
show every field but ids (fields ending in ``_id``); a list of objects becomes their
names, each with its ``[status]`` when it has one. JSON shows the rows as they are.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable
from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

from calipso_core.errors import NotFound, PluginError

Report = Callable[[Any, str], list[dict[str, Any]]]


def register(commands) -> None:
    parser = commands.add_parser("report", help="print a report on an environment (e.g. aci-ports)")
    parser.add_argument("name", help="report name, e.g. aci-ports (an unknown name lists the installed ones)")
    parser.add_argument("env", help="environment name")
    parser.add_argument("--format", choices=("table", "csv", "json"), default="table")
    parser.set_defaults(run=run)


def available_reports(plugins) -> dict[str, Report]:
    """Every report the installed plugins offer, by name; two plugins offering one name
    is an error naming both."""
    found: dict[str, tuple[str, Report]] = {}
    for plugin_name, module in sorted(plugins.list_name_plugin(), key=lambda item: item[0]):
        for name, report in (getattr(module, "CALIPSO_REPORTS", None) or {}).items():
            if name in found:
                raise PluginError(f"report {name!r} is offered twice: by plugin {found[name][0]!r} "
                                  f"and by plugin {plugin_name!r}")
            found[name] = (plugin_name, report)
    return {name: report for name, (_plugin, report) in found.items()}


def run(app, args) -> int:
    reports = available_reports(app.plugins)
    if args.name not in reports:
        known = ", ".join(sorted(reports)) or "none"
        raise NotFound(f"no report named {args.name!r} (installed reports: {known})")
    rows = reports[args.name](app, args.env)
    if args.format == "json":
        print(json.dumps(rows, indent=2, default=str))
    elif args.format == "csv":
        print(as_csv(rows), end="")
    else:
        Console().print(as_table(rows, f"{args.name} report of {args.env}"))
    return 0


def columns(rows: list[dict[str, Any]]) -> list[str]:
    """The fields of the rows, in first-seen order, without ids."""
    names = dict.fromkeys(key for row in rows for key in row)
    return [name for name in names if not name.endswith("_id")]


def cell(value: Any) -> str:
    """A field as text: a list of objects as their names (with ``[status]``)."""
    if value is None:
        return ""
    if isinstance(value, list):
        return ", ".join(_item(v) for v in value)
    if isinstance(value, dict):
        return _item(value)
    return str(value)


def _item(value: Any) -> str:
    if not isinstance(value, dict):
        return cell(value)
    name = str(value.get("name") or value.get("id") or "")
    return f"{name} [{value['status']}]" if value.get("status") else name


def as_csv(rows: list[dict[str, Any]]) -> str:
    out = io.StringIO()
    names = columns(rows)
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(names)
    for row in rows:
        writer.writerow([cell(row.get(name)) for name in names])
    return out.getvalue()


def as_table(rows: list[dict[str, Any]], title: str) -> Table:
    names = columns(rows)
    table = Table(title=title)
    for name in names:
        table.add_column(name)
    for row in rows:
        table.add_row(*(Text(cell(row.get(name)) or "-") for name in names))
    return table
