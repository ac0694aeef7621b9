"""Fixtures of the ACI tests: a small lab fabric, its APIC on loopback (plain HTTP, or
HTTPS with a certificate from a throwaway CA), and the recorded APIC answers."""

from __future__ import annotations

import json

import pytest
from aci_helpers import PASSWORD, make_certificates, tls_server

from calipso_core.lab.generate import generate_lab
from calipso_core.lab.model import LabSpec
from calipso_plugins_aci.lab.apic import LabApic


@pytest.fixture(scope="module")
def fabric_model():
    """Five hosts (one with a bond) cabled to two leaves, two spines."""
    return generate_lab(LabSpec(seed=11, hosts=5, instances=6, aci=True))


@pytest.fixture
def apic(fabric_model):
    with LabApic(fabric_model, password=PASSWORD) as server:
        yield server


@pytest.fixture
def recorded(shared_fixtures):
    """``recorded("epm_mac_ep_by_mac")``: a recorded APIC answer."""
    folder = shared_fixtures / "upstream" / "aci"

    def load(name: str):
        return json.loads((folder / f"{name}.json").read_text())

    return load


@pytest.fixture
def tls_apic(apic, tmp_path):
    """The lab APIC's app served over HTTPS; yields (port, CA file)."""
    paths = make_certificates(tmp_path)
    with tls_server(apic.app, paths["cert"], paths["key"]) as server:
        yield server.port, paths["ca"]
