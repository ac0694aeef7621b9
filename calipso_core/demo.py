"""``make demo``: the main job on the embedded defaults.

Sets up the embedded database, starts a lab (Open vSwitch, vxlan, a dozen hosts) on
loopback, adds it as an environment, scans it with a progress bar, prints the summary,
one instance's clique, and the check of the inventory against the lab's ground truth.
"""

from __future__ import annotations

import sys
import tempfile
import warnings
from pathlib import Path

from rich.console import Console
from rich.tree import Tree
from sqlalchemy import select

from calipso_core import db
from calipso_core.cli import scan_cmd
from calipso_core.context import Calipso
from calipso_core.lab.serve import Lab, LabOptions
from calipso_core.lab.truth import compare, stored_document
from calipso_core.seed import seed_defaults
from calipso_core.store.tables import cliques

DEMO = LabOptions(seed=7, hosts=12, mechanism_driver="OVS", type_driver="vxlan", latency_ms=(5, 20),
                  name="demo-lab")


def print_clique(console: Console, app: Calipso, env: str) -> None:
    with app.engine.connect() as conn:
        row = conn.execute(select(cliques.c.focal_point, cliques.c.doc).where(
            cliques.c.environment == env, cliques.c.focal_point_type == "instance").limit(1)).first()
    if row is None:
        return
    names = {o["id"]: f"{o['type']} {o['name']}" for o in app.inventory.get_many(env, row.doc["nodes"])}
    tree = Tree(f"clique of {names.get(row.focal_point, row.focal_point)}")
    for link in row.doc["links_detailed"]:
        tree.add(f"{link['link_type']}: {names.get(link['source_id'])} -> {names.get(link['target_id'])}")
    console.print(tree)


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
            types = list(app.plugins.records("calipso_clique_types").values())
            result = compare(lab.truth().as_document(lab.environment(), types),
                             stored_document(app.inventory, app.engine, DEMO.env_name))
            console.print(f"{result.differences} differences between the inventory and the lab's ground truth")
        finally:
            lab.stop()
            app.close()
    return 0 if result.differences == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
