"""The API over a scanned lab, on loopback HTTP: what it answers is what the lab holds
and what the scan stored."""

from __future__ import annotations

import httpx
from sqlalchemy import select

from calipso_core.api import create_app
from calipso_core.scan.controller import Scan
from calipso_core.store.tables import cliques
from calipso_core.testing import serve_app
from calipso_core.users import READ_ONLY, Users

PASSWORD = "a long enough pass phrase"


def test_the_api_serves_a_scanned_lab(calipso, lab_environment):
    lab = lab_environment(seed=5, hosts=4, instances=8)
    env = lab.options.env_name
    assert Scan(calipso, env, concurrency=8).run().status == "completed"
    users = Users(calipso.engine)
    users.add("operator", PASSWORD, READ_ONLY)
    token = users.issue_token(users.authenticate("operator", PASSWORD), "credentials").token
    with serve_app(create_app(calipso)) as url, \
            httpx.Client(base_url=url, headers={"X-Auth-Token": token}, timeout=30) as http:
        assert http.get("/health").json()["environments"][env]["last_scan"]["status"] == "completed"

        def get(path, **params):
            answer = http.get(path, params={"env_name": env, **params})
            assert answer.status_code == 200, answer.text
            return answer.json()

        listed = get("/inventory", type="instance", page_size=100)["objects"]
        assert sorted(o["name"] for o in listed) == sorted(i.name for i in lab.model.instances.values())
        instance = lab.model.instances[listed[0]["id"]]
        assert get("/inventory", id=instance.id)["host"] == instance.host

        with calipso.engine.connect() as conn:
            stored = conn.execute(select(cliques.c.nodes, cliques.c.doc).where(
                cliques.c.environment == env, cliques.c.focal_point == instance.id)).one()
        graph = get("/graph", focal_point=instance.id)
        assert {node["id"] for node in graph["nodes"]} == set(stored.nodes)
        assert {link["id"] for link in graph["links"]} == set(stored.doc["links"])
        assert {"instance", "vnic", "network"} <= {node["type"] for node in graph["nodes"]}

        on_host = {i.id for i in lab.model.instances.values() if i.host == instance.host}
        impact = get("/impact", id=instance.host)["impact"]
        assert {i["id"] for i in impact["instances"]} == on_host
        assert {i["through"] for i in impact["instances"]} == on_host  # each is in the host's subtree

        assert get("/search", q=instance.name)["objects"][0]["id"] == instance.id
