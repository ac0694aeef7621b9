"""``calipso lab``: serve a simulated data centre, show its ground truth, check an
environment's inventory against it, and change its cloud."""

from __future__ import annotations

import gc
import json
import signal
import tempfile
import threading
from pathlib import Path

from rich.console import Console
from rich.table import Table

from calipso_core.cli.env_cmd import read_environment_file
from calipso_core.environments import config_section
from calipso_core.errors import ConfigError
from calipso_core.lab.control import LabClient
from calipso_core.lab.serve import Lab, LabOptions
from calipso_core.lab.truth import compare, stored_document


def latency(text: str) -> tuple[float, float]:
    low, _, high = text.partition("-")
    try:
        return float(low), float(high or low)
    except ValueError:
        raise ConfigError(f"--latency-ms {text!r}: expected A-B in milliseconds, e.g. 5-20") from None


def register(commands) -> None:
    parser = commands.add_parser("lab", help="a simulated data centre that speaks the real protocols")
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    serve = actions.add_parser("serve", help="serve a lab until stopped (SIGINT, SIGTERM)")
    serve.add_argument("--seed", type=int, default=1)
    serve.add_argument("--hosts", type=int, default=12)
    serve.add_argument("--instances", type=int)
    serve.add_argument("--mechanism-driver", choices=("OVS", "LXB", "VPP"), default="OVS")
    serve.add_argument("--type-driver", choices=("vxlan", "vlan"), default="vxlan")
    serve.add_argument("--aci", action="store_true")
    serve.add_argument("--latency-ms", default="5-20", help="per command and API call, A-B (0 for none)")
    serve.add_argument("--amqp-url", help="use this broker instead of starting a private one")
    serve.add_argument("--no-notifications", dest="notifications", action="store_false",
                       help="announce no change (start no broker)")
    serve.add_argument("--name", help="the environment's name (default lab-SEED)")
    serve.add_argument("--config-out", type=Path, required=True, help="write the environment document here")
    serve.add_argument("--workdir", type=Path, help="where keys and the broker's data go (default: a temp dir)")
    serve.set_defaults(run=run_serve)
    truth = actions.add_parser("truth", help="print what a perfect scan of a running lab finds")
    truth.add_argument("--config", type=Path, required=True, help="the lab's environment document")
    truth.add_argument("--format", choices=("table", "json"), default="table")
    truth.set_defaults(run=run_truth)
    verify = actions.add_parser("verify", help="compare an environment's inventory with its lab's truth")
    verify.add_argument("env")
    verify.set_defaults(run=run_verify)
    churn = actions.add_parser("churn", help="make random changes to a running lab's cloud")
    churn.add_argument("--config", type=Path, required=True)
    churn.add_argument("--changes", type=int, required=True)
    churn.add_argument("--seed", type=int)
    churn.add_argument("--rate", type=float, help="changes per second (default: as fast as it can)")
    churn.add_argument("--only", type=lambda text: text.split(","), metavar="COLLECTION,...",
                       help="change only these: instance, network, port, router (default: all)")
    churn.set_defaults(run=run_churn)


def options_of(args) -> LabOptions:
    return LabOptions(seed=args.seed, hosts=args.hosts, instances=args.instances,
                      mechanism_driver=args.mechanism_driver, type_driver=args.type_driver, aci=args.aci,
                      latency_ms=latency(args.latency_ms), amqp_url=args.amqp_url,
                      notifications=args.notifications, name=args.name)


def run_serve(app, args) -> int:
    console = Console(stderr=True)
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    with tempfile.TemporaryDirectory(prefix="calipso-lab-") as tmp:
        with console.status("generating and starting the lab"):
            lab = Lab(options_of(args), app.plugins, args.workdir or Path(tmp)).start()
        # The model and the hosts' prepared answers live as long as this process: kept out
        # of the collector's passes, which otherwise walk all of them again and again.
        gc.collect()
        gc.freeze()
        try:
            args.config_out.write_text(json.dumps(lab.environment(), indent=2))
            args.config_out.chmod(0o600)
            counts = ", ".join(f"{n} {k}" for k, n in lab.model.counts().items() if n)
            console.print(f"lab {lab.options.env_name} is up: {counts}\nenvironment document: {args.config_out}",
                          highlight=False)
            stop.wait()
        finally:
            console.print("stopping the lab", highlight=False)
            lab.stop()
    return 0


def lab_client(doc: dict) -> LabClient:
    section = config_section(doc, "Lab")
    if section is None:
        raise ConfigError(f"environment {doc.get('name')!r} has no Lab section: it does not point at a lab")
    return LabClient(section)


def run_truth(app, args) -> int:
    truth = lab_client(read_environment_file(args.config)).truth()
    if args.format == "json":
        print(json.dumps(truth, indent=2))
        return 0
    table = Table(title="lab ground truth")
    table.add_column("kind")
    table.add_column("type")
    table.add_column("count", justify="right")
    for kind in ("objects", "links"):
        counts: dict[str, int] = {}
        for item in truth[kind]:
            key = item.get("type") or item.get("link_type")
            counts[key] = counts.get(key, 0) + 1
        for name, count in sorted(counts.items()):
            table.add_row(kind, name, f"{count:,}")
    table.add_row("cliques", "", f"{len(truth['cliques']):,}")
    Console().print(table)
    return 0


def run_verify(app, args) -> int:
    doc = app.environments.get(args.env)
    expected = lab_client(doc).truth()
    result = compare(expected, stored_document(app.inventory, app.engine, args.env))
    table = Table(title=f"{args.env} against its lab: {result.differences} differences")
    for column in ("kind", "type", "expected", "found", "missing", "unexpected"):
        table.add_column(column, justify="left" if column in ("kind", "type") else "right")
    for row in result.rows:
        style = "red" if row["missing"] or row["unexpected"] else None
        table.add_row(row["kind"], row["type"], *(str(row[c]) for c in ("expected", "found", "missing",
                                                                           "unexpected")), style=style)
    console = Console()
    console.print(table)
    for row in result.rows:
        for example in row["examples"]:
            console.print(f"  {row['kind']} {row['type']}: {example}", highlight=False, markup=False)
    return 1 if result.differences else 0


def run_churn(app, args) -> int:
    result = lab_client(read_environment_file(args.config)).churn(args.changes, args.seed, args.rate, args.only)
    kinds = ", ".join(f"{n} {k}" for k, n in sorted(result["kinds"].items()))
    Console().print(f"{result['changes']} changes: {kinds}", highlight=False)
    return 0
