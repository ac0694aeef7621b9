"""``calipso plugins``: what is installed and what each plugin contributes."""

from __future__ import annotations

import json

from rich.console import Console
from rich.table import Table

from calipso_core.hookspecs import HOOK_NAMES


def register(commands) -> None:
    parser = commands.add_parser("plugins", help="list the installed plugins and their contributions")
    parser.add_argument("--format", choices=("table", "json"), default="table")
    parser.set_defaults(run=run)


def describe(pm) -> dict:
    """Each plugin with its distribution, version and per hook the names it gives."""
    plugins = {
        name: {"name": name, "distribution": info.distribution, "version": info.version,
               "module": info.module, "contributes": {}}
        for name, info in pm.infos.items()
    }
    for hook in HOOK_NAMES:
        for item in pm.contributions(hook):
            plugins[item.plugin]["contributes"].setdefault(hook, []).append(item.record.name)
    failures = [f.__dict__ for f in pm.load_failures]
    return {"plugins": list(plugins.values()), "load_failures": failures}


def run(app, args) -> int:
    report = describe(app.plugins)
    if args.format == "json":
        print(json.dumps(report, indent=2))
        return 0
    console = Console()
    table = Table(title="Calipso plugins")
    for column in ("plugin", "distribution", "version", "contributes"):
        table.add_column(column)
    for plugin in report["plugins"]:
        contributes = "\n".join(
            f"{hook.removeprefix('calipso_')}: {', '.join(names)}"
            for hook, names in plugin["contributes"].items()
        )
        table.add_row(plugin["name"], plugin["distribution"], plugin["version"], contributes or "-")
    console.print(table)
    for failure in report["load_failures"]:
        console.print(
            f"[yellow]skipped plugin {failure['name']}[/] from {failure['distribution']} "
            f"({failure['entry_point']}): {failure['error']}",
            highlight=False,
        )
    return 0
