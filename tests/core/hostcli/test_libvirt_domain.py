"""virsh dumpxml: the recorded instance, the vNIC the original stored, several documents,
round trips and malformed XML."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from calipso_core.errors import ParseError
from calipso_core.hostcli.libvirt_domain import (
    Domain,
    DomainInterface,
    NovaMetadata,
    parse_domains,
    parse_dumpxml,
    virsh_dumpxml,
)
from calipso_core.hostcli.libvirt_xml import render_domains, render_dumpxml

CLI = Path(__file__).resolve().parents[3] / ".." / "shared" / "fixtures" / "upstream" / "cli"


def recorded(name: str) -> str:
    if not CLI.is_dir():
        pytest.skip("../shared fixtures are not beside this checkout")
    return (CLI / name).read_text()


def upstream() -> dict:
    return json.loads(recorded("cli_fetch_instance_vnics_test_data.json"))


def test_recorded_domain_gives_the_instance_and_vnic_expected_upstream():
    data = upstream()
    domain = parse_dumpxml(recorded("virsh_dumpxml_instance_00000026.txt"), virsh_dumpxml(38))
    instance = data["INSATNCE"]
    assert str(domain.id) == data["ID"] and domain.uuid == instance["uuid"]
    assert domain.name == instance["local_name"] and domain.nova.name == instance["name"]
    assert domain.nova.project_uuid == instance["project_id"] and [domain.nova.project_name] == instance["projects"]
    assert (domain.type, domain.memory_kib, domain.vcpus, domain.nova.flavor_name) == ("qemu", 65536, 1, "m1.micro")
    (vnic,) = domain.interfaces
    assert vnic.as_libvirt_dict() == data["VNIC"]
    stored = data["VNICS_FROM_DUMP_XML"][0]
    assert vnic.target_dev == stored["id"] == stored["name"]
    assert vnic.mac == stored["mac_address"] and vnic.source_bridge == stored["source_bridge"]


def test_recorded_domain_round_trips_through_the_renderer():
    domain = parse_dumpxml(recorded("virsh_dumpxml_instance_00000026.txt"))
    text = render_dumpxml(domain)
    assert "    <interface type='bridge'>\n      <mac address='fa:16:3e:e8:7f:04'/>\n" \
           "      <source bridge='qbr1f72bd15-8a'/>\n      <target dev='tap1f72bd15-8a'/>\n" in text
    assert '<nova:user uuid="13baa553aae44adca6615e711fd2f6d9">admin</nova:user>' in text
    assert text.endswith("</domain>\n\n")
    assert parse_dumpxml(text) == domain


def an_ovs_and_a_vpp_domain() -> tuple[Domain, Domain]:
    ovs = Domain("instance-0000000a", "8d0c8c6e-0f45-4a7b-8a6c-1f0b3a9d1e2f", 4, "kvm", 2097152, 2,
                 NovaMetadata(name="web & db <1>", project_name="demo", project_uuid="p1", flavor_name="m1.small",
                              flavor={"memory": "2048", "vcpus": "2"}),
                 (DomainInterface("bridge", "fa:16:3e:00:00:0a", {"bridge": "br-int"}, "tap0a", "virtio",
                                  virtualport_type="openvswitch",
                                  virtualport_parameters={"interfaceid": "0a0a-port"}, mtu=1450),))
    vpp = Domain("instance-0000000b", "9e1d9d7f-1f56-5b8c-9b7d-2a1c4b0e2f30", None, "kvm", interfaces=(
        DomainInterface("vhostuser", "fa:16:3e:00:00:0b",
                        {"type": "unix", "path": "/tmp/0b0b-port", "mode": "server"}, model="virtio"),))
    return ovs, vpp


def test_several_domains_one_after_another_round_trip():
    ovs, vpp = an_ovs_and_a_vpp_domain()
    text = render_domains([ovs, vpp])
    assert "<domain type='kvm'>\n" in text  # a stopped domain has no id
    assert "<source type='unix' path='/tmp/0b0b-port' mode='server'/>" in text
    assert parse_domains(text) == (ovs, vpp)
    assert ovs.interfaces[0].interface_id == "0a0a-port" and vpp.interfaces[0].source_bridge is None
    assert parse_domains("") == ()


def test_one_line_document_without_a_name_is_refused():
    with pytest.raises(ParseError) as caught:
        parse_dumpxml(upstream()["WRONG_DUMPXML"])
    assert "<name>" in caught.value.reason and caught.value.line_number == 1


def test_malformed_xml_names_the_line_of_the_error():
    ovs, vpp = an_ovs_and_a_vpp_domain()
    lines = render_domains([ovs, vpp]).splitlines()
    broken_at = next(i for i, line in enumerate(lines) if "<vcpu" in line)
    lines[broken_at] = "  <vcpu placement='static'>2</vcpus>"
    with pytest.raises(ParseError) as caught:
        parse_domains("\n".join(lines))
    assert caught.value.line_number == broken_at + 1 and caught.value.line == lines[broken_at]


@pytest.mark.parametrize(("text", "line_number", "reason"), [
    ("error: failed to get domain '99'\n", 1, "outside a <domain>"),
    ("<domain type='kvm'>\n  <name>a</name>\n", 1, "without '</domain>'"),
    ("<!DOCTYPE x [<!ENTITY a 'b'>]><domain><name>&a;</name><uuid>u</uuid></domain>\n", 1, "outside"),
    ("<domain type='kvm' id='x'><name>a</name><uuid>u</uuid></domain>\n", 1, "bad value"),
    ("<domain><name>a</name><uuid>u</uuid></domain>\n<domain><name>b</name><uuid>v</uuid></domain>\n", None, "one"),
])
def test_other_malformed_output(text, line_number, reason):
    with pytest.raises(ParseError) as caught:
        parse_dumpxml(text)
    assert caught.value.line_number == line_number and reason in caught.value.reason
