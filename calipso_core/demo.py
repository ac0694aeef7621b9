"""``make demo``: the main job on the embedded defaults.

Sets up the embedded database, starts a lab (Open vSwitch, vxlan, a dozen hosts) on
loopback, adds it as an environment, scans it with a progress bar, prints the summary,
one instance's clique, and the check of the inventory against the lab's ground truth.
Then the environment's listener runs while the lab's cloud changes (its Nova and Neutron
announce each change on the lab's RabbitMQ), and the inventory is checked again, with no
rescan.
"""

from __future__ import annotations

import random
import sys
import tempfile
import time
import warnings
from collections import Counter
from pathlib import Path

from rich.console import Console
from rich.progress import Progress
from rich.tree import Tree
from sqlalchemy import select

from calipso_core import db
from calipso_core.cli import scan_cmd
from calipso_core.context import Calipso
from calipso_core.lab.serve import Lab, LabOptions
from calipso_core.lab.truth import compare, stored_document
from calipso_core.listener import EnvironmentListener
from calipso_core.seed import seed_defaults
from calipso_core.store.tables import cliques

DEMO = LabOptions(seed=7, hosts=12, mechanism_driver="OVS", type_driver="vxlan", latency_ms=(5, 20),
                  name="demo-lab")
LIVE_CHANGES, CHANGES_PER_SECOND = 60, 6


def print_clique(console: Console, app: Calipso, env: str) -> None:
    with app.engine.connect() as conn:
        row = conn.execute(select(cliques.c.focal_point, cliques.c.nodes, cliques.c.doc).where(
            cliques.c.environment == env, cliques.c.focal_point_type == "instance").limit(1)).first()
    if row is None:
        return
    names = {o["id"]: f"{o['type']} {o['name']}" for o in app.inventory.get_many(env, row.nodes)}
    tree = Tree(f"clique of {names.get(row.focal_point, row.focal_point)}")
    for link in row.doc["links_detailed"]:
        tree.add(f"{link['link_type']}: {names.get(link['source_id'])} -> {names.get(link['target_id'])}")
    console.print(tree)


def differences(app: Calipso, lab: Lab) -> int:
    types = list(app.plugins.records("calipso_clique_types").values())
    return compare(lab.truth().as_document(lab.environment(), types),
                   stored_document(app.inventory, app.engine, lab.options.env_name)).differences


def follow_changes(console: Console, app: Calipso, lab: Lab) -> int:
    """Change the lab's cloud while the listener keeps the inventory up to date; return
    the differences left once it has caught up."""
    rng, kinds = random.Random(DEMO.seed), Counter()
    with EnvironmentListener(app, DEMO.env_name) as listener:
        with Progress(console=console) as progress:
            task = progress.add_task("the lab's cloud changes", total=LIVE_CHANGES)
            for _ in range(LIVE_CHANGES):
                kinds[lab.change(rng).kind] += 1
                progress.advance(task)
                time.sleep(1 / CHANGES_PER_SECOND)
        deadline = time.monotonic() + 60
        while (left := differences(app, lab)) and time.monotonic() < deadline:
            time.sleep(0.5)
        stats = listener.processor.stats
    console.print(", ".join(f"{n} {kind}" for kind, n in kinds.most_common()), highlight=False)
    console.print(f"the listener applied {stats['notifications']} notifications in {stats['batches']} batches "
                  f"({stats['rejected']} rejected)", highlight=False)
    return left


def main() -> int:
    warnings.filterwarnings("ignore")
    console = Console()
    app = Calipso()
    console.rule("database")
    db.upgrade(app.engine)
    seed_defaults(app.engine, app.plugins)
    console.print(f"PostgreSQL at {app.engine.url.render_as_string(hide_password=True)}", highlight=False)
    with tempfile.TemporaryDirectory(prefix="calipso-demo-") as tmp:
        console.rule("lab")
        with console.status("starting a lab of 12 hosts"):
            lab = Lab(DEMO, app.plugins, Path(tmp)).start()
        try:
            counts = ", ".join(f"{n} {k}" for k, n in lab.model.counts().items() if n)
            console.print(f"lab {DEMO.env_name}: {counts}", highlight=False)
            app.environments.save(lab.environment(), replace=True)
            console.rule(f"calipso scan {DEMO.env_name}")
            scan_cmd.scan_with_progress(app, DEMO.env_name)
            print_clique(console, app, DEMO.env_name)
            console.rule(f"calipso lab verify {DEMO.env_name}")
            scanned = differences(app, lab)
            console.print(f"{scanned} differences between the inventory and the lab's ground truth")
            console.rule(f"calipso listen {DEMO.env_name}, while the lab's cloud changes")
            live = follow_changes(console, app, lab)
            console.print(f"{live} differences between the live inventory and the lab's ground truth, no rescan")
        finally:
            lab.stop()
            app.close()
    return 0 if scanned == live == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
