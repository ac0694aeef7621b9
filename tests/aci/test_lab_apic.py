"""The lab APIC spoken to over HTTP as a real APIC would be: authentication, class and
mo queries with their parameters, the envelopes, and a fabric that matches the model."""

from __future__ import annotations

from types import SimpleNamespace

import httpx
import pytest
from aci_helpers import PASSWORD

from calipso_core.lab.generate import generate_lab
from calipso_core.lab.model import LabSpec
from calipso_plugins_aci.lab.filters import FilterError, parse_filter
from calipso_plugins_aci.lab.mos import Mo, parent_dn
from calipso_plugins_aci.lab.services import start_apic


@pytest.fixture
def session(apic):
    """An httpx client logged in to the lab APIC (the cookie kept by httpx)."""
    with httpx.Client(base_url=apic.base_url) as http:
        answer = http.post("/api/aaaLogin.json", json={"aaaUser": {"attributes": {"name": "admin", "pwd": PASSWORD}}})
        assert answer.status_code == 200
        assert answer.cookies["APIC-cookie"] == answer.json()["imdata"][0]["aaaLogin"]["attributes"]["token"]
        yield http


def names(answer: httpx.Response, cls: str, key: str = "dn") -> list[str]:
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert set(body) == {"totalCount", "imdata"}
    return [item[cls]["attributes"][key] for item in body["imdata"]]


def test_queries_need_a_valid_token(apic):
    with httpx.Client(base_url=apic.base_url) as http:
        answer = http.get("/api/class/fabricNode.json")
        assert answer.status_code == 403
        assert answer.json()["imdata"][0]["error"]["attributes"]["code"] == "403"
        answer = http.get("/api/class/fabricNode.json", headers={"Cookie": "APIC-cookie=forged"})
        assert "Token was invalid" in answer.json()["imdata"][0]["error"]["attributes"]["text"]
        wrong = http.post("/api/aaaLogin.json", json={"aaaUser": {"attributes": {"name": "admin", "pwd": "no"}}})
        assert wrong.status_code == 401 and "APIC-cookie" not in wrong.cookies


def test_class_queries_filter_like_the_apic(session, fabric_model):
    leaves = names(session.get("/api/class/fabricNode.json",
                               params={"query-target-filter": 'eq(fabricNode.role,"leaf")'}), "fabricNode", "name")
    assert leaves == [leaf.name for leaf in fabric_model.aci.leaves]
    switches = names(session.get("/api/class/fabricNode.json", params={
        "query-target-filter": 'and(ne(fabricNode.role,"controller"),not(eq(fabricNode.id,"101")))'}),
        "fabricNode", "id")
    assert switches == sorted(str(s.node_id) for s in fabric_model.aci.switches if s.node_id != 101)
    cable = fabric_model.aci.host_links[0]
    found = names(session.get("/api/class/epmMacEp.json", params={
        "query-target-filter": f'and(wcard(epmMacEp.ifId,"eth"),eq(epmMacEp.addr,"{cable.mac.upper()}"))'}),
        "epmMacEp", "ifId")
    assert found == [cable.port]
    bad = session.get("/api/class/fabricNode.json", params={"query-target-filter": "eq(fabricNode.role,leaf)"})
    assert bad.status_code == 400 and bad.json()["imdata"][0]["error"]["attributes"]["code"] == "121"


def test_mo_queries_walk_the_tree(session, fabric_model):
    node = "topology/pod-1/node-101"
    assert names(session.get(f"/api/mo/{node}/sys.json"), "topSystem") == [f"{node}/sys"]
    assert names(session.get(f"/api/mo/{node}/sys/phys-[eth1/3].json"), "l1PhysIf", "id") == ["eth1/3"]
    adjacencies = names(session.get(f"/api/mo/{node}/sys.json", params={
        "query-target": "subtree", "target-subtree-class": "lldpAdjEp"}), "lldpAdjEp", "sysName")
    assert adjacencies == [s.name for s in fabric_model.aci.spines]
    children = session.get(f"/api/mo/{node}.json", params={"query-target": "children"}).json()["imdata"]
    assert [next(iter(item)) for item in children] == ["topSystem"]
    assert session.get("/api/mo/topology/pod-1/node-999.json").json() == {"totalCount": "0", "imdata": []}


def test_children_come_only_when_asked(session):
    plain = session.get("/api/class/fvCEp.json").json()["imdata"][0]["fvCEp"]
    assert "children" not in plain
    full = session.get("/api/class/fvCEp.json", params={"rsp-subtree": "children",
                                                        "rsp-subtree-class": "fvRsCEpToPathEp"})
    child = full.json()["imdata"][0]["fvCEp"]["children"][0]["fvRsCEpToPathEp"]["attributes"]
    assert child["tDn"].startswith("topology/pod-1/paths-1") and child["rn"] == f"rscEpToPathEp-[{child['tDn']}]"


def test_pages_and_order(session, apic):
    everything = [mo.dn for mo in apic.store.of_class("l1PhysIf")]
    page = session.get("/api/class/l1PhysIf.json", params={"page": 2, "page-size": 10}).json()
    assert page["totalCount"] == str(len(everything))
    assert [i["l1PhysIf"]["attributes"]["dn"] for i in page["imdata"]] == everything[20:30]
    newest_first = names(session.get("/api/class/fabricNode.json", params={"order-by": "fabricNode.id|desc"}),
                         "fabricNode", "id")
    assert newest_first == sorted(newest_first, reverse=True)
    assert session.get("/api/class/l1PhysIf.json", params={"page": "x"}).status_code == 400


def test_the_fabric_matches_the_model(apic, fabric_model):
    fabric = fabric_model.aci
    learned = {(m.dn.split("/sys/")[0], m.attributes["ifId"], m.attributes["addr"])
               for m in apic.store.of_class("epmMacEp")}
    assert learned == {(f"topology/pod-1/node-{c.leaf_id}", c.port, c.mac.upper()) for c in fabric.host_links}
    seen = {(m.dn.split("/sys/")[0], m.attributes["sysDesc"]) for m in apic.store.of_class("lldpAdjEp")}
    assert len(seen) == 2 * len(fabric.fabric_links)
    roles = sorted(m.attributes["role"] for m in apic.store.of_class("fabricNode"))
    assert roles == sorted(["controller", *(s.role for s in fabric.switches)])


def test_filters_parse_and_refuse():
    mo = Mo("epmMacEp", {"dn": "d", "ifId": "eth1/3", "pcTag": "49162"})
    assert parse_filter('and(wcard(epmMacEp.ifId,"^eth1/"),gt(epmMacEp.pcTag,"100"))')(mo)
    assert parse_filter('or(eq(fabricNode.role,"leaf"),ne(epmMacEp.ifId,"eth1/4"))')(mo)
    assert not parse_filter('eq(fabricNode.ifId,"eth1/3")')(mo)
    for bad in ('eq(epmMacEp.ifId)', 'foo(epmMacEp.ifId,"x")', 'eq(ifId,"x")', 'not(eq(a.b,"1"),eq(a.b,"2"))',
                'eq(a.b,"1") x', 'wcard(a.b,"(")'):
        with pytest.raises(FilterError):
            parse_filter(bad)


def test_a_dn_parent_ignores_slashes_in_brackets():
    assert parent_dn("topology/pod-1/node-101/sys/phys-[eth1/33]") == "topology/pod-1/node-101/sys"
    assert parent_dn("uni") == ""


def test_the_lab_service_serves_an_apic_only_with_a_fabric(fabric_model):
    sections: list[dict] = []
    lab = SimpleNamespace(model=fabric_model, secret="s3", options=SimpleNamespace(latency_ms=(0, 0)),
                          add_section=sections.append)
    handle = start_apic(lab)
    try:
        assert sections == [{"name": "ACI", "host": "127.0.0.1", "port": handle.port, "protocol": "http",
                             "user": "admin", "pwd": "s3"}]
        assert httpx.get(f"{handle.base_url}/api/class/fabricNode.json").status_code == 403
    finally:
        handle.stop()
    lab.model = generate_lab(LabSpec(seed=1, hosts=2))
    start_apic(lab).stop()
    assert len(sections) == 1
