"""ip netns list: recorded outputs, namespace ids, malformed lines."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from calipso_core.errors import ParseError
from calipso_core.hostcli.ip_netns import Namespace, ip_netns_exec, parse_ip_netns_list, render_ip_netns_list

CLI = Path(__file__).resolve().parents[3] / ".." / "shared" / "fixtures" / "upstream" / "cli"


def recorded(name: str) -> str:
    if not CLI.is_dir():
        pytest.skip("../shared fixtures are not beside this checkout")
    return (CLI / name).read_text()


def test_host_vservices_are_the_qdhcp_and_qrouter_namespaces_expected_upstream():
    expected = json.loads(recorded("cli_fetch_host_verservices_test_data.json"))["LOCAL_SERVICES_IDS"]
    text = recorded("ip_netns_list_host_vservices.txt")
    namespaces = parse_ip_netns_list(text)
    assert [ns.name for ns in namespaces][-2:] == ["haproxy", "vrouter"]
    services = [ns.name for ns in namespaces if ns.name.startswith(("qdhcp-", "qrouter-"))]
    assert services == [e["local_service_id"] for e in expected]
    assert render_ip_netns_list(namespaces) == text


def test_vservice_vnics_namespace_list_holds_the_service_expected_upstream():
    service_id = json.loads(recorded("cli_fetch_vservice_vnics_test_data.json"))["SERVICE_ID"]
    namespaces = parse_ip_netns_list(recorded("ip_netns_list_vservice_vnics.txt"))
    assert namespaces[0] == Namespace(service_id)
    assert len(namespaces) == 13


def test_namespace_ids_of_newer_iproute2_round_trip():
    namespaces = (Namespace("qdhcp-1", 0), Namespace("qrouter-2"), Namespace("qdhcp-3", 12))
    text = render_ip_netns_list(namespaces)
    assert text == "qdhcp-1 (id: 0)\nqrouter-2\nqdhcp-3 (id: 12)\n"
    assert parse_ip_netns_list(text) == namespaces
    assert render_ip_netns_list(()) == "" and parse_ip_netns_list("") == ()
    assert ip_netns_exec("qdhcp-1", "ip address show") == "ip netns exec qdhcp-1 ip address show"


@pytest.mark.parametrize(("text", "line_number"), [("qdhcp-1\nqdhcp 2\n", 2), ("a (id: x)\n", 1)])
def test_malformed_line_is_named(text, line_number):
    with pytest.raises(ParseError) as caught:
        parse_ip_netns_list(text)
    assert caught.value.line_number == line_number and caught.value.command == "ip netns list"
