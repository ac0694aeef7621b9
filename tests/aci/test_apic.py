"""The APIC client against the lab APIC over loopback: login and the APIC-cookie, token
refresh and renewal, re-login after a rejected token, retries with back-off, paging,
errors that name the URL, and TLS verification."""

from __future__ import annotations

import math
import socket

import pytest
from aci_helpers import PASSWORD, FakeClock

from calipso_core.errors import CalipsoError, ConfigError
from calipso_plugins_aci.apic import REFRESH_AT, RELOGIN_AT, ApicClient
from calipso_plugins_aci.errors import (
    AciAuthenticationFailed,
    AciRequestFailed,
    AciTlsError,
    AciUnreachable,
)


@pytest.fixture
def client_for(apic):
    """Clients of the lab APIC, closed afterwards; sleeps are recorded, not slept."""
    made = []

    def make(password: str = PASSWORD, **options) -> ApicClient:
        sleeps: list[float] = []
        options.setdefault("sleep", sleeps.append)
        client = ApicClient(apic.base_url, "admin", password, **options)
        client.sleeps = sleeps
        made.append(client)
        return client

    yield make
    for client in made:
        client.close()


def leaf_names(client: ApicClient) -> set[str]:
    items = client.query_class("fabricNode", 'eq(fabricNode.role,"leaf")')
    return {item["fabricNode"]["attributes"]["name"] for item in items}


def test_login_sends_the_token_as_the_apic_cookie(apic, client_for, fabric_model):
    client = client_for()
    assert leaf_names(client) == {leaf.name for leaf in fabric_model.aci.leaves}
    assert client.token
    assert apic.paths() == ["/api/aaaLogin.json", "/api/class/fabricNode.json"]


def test_a_wrong_password_fails_clearly_without_showing_it(apic, client_for):
    client = client_for(password="not-the-password")
    with pytest.raises(AciAuthenticationFailed) as failure:
        client.query_class("fabricNode")
    message = str(failure.value)
    assert f"{apic.base_url}/api/aaaLogin.json" in message and "'admin'" in message and "incorrect" in message
    assert "not-the-password" not in message and "not-the-password" not in repr(client)
    assert failure.value.status == 401


def test_the_token_is_refreshed_before_it_expires(apic, client_for):
    clock = FakeClock()
    client = client_for(clock=clock)
    leaf_names(client)
    first = client.token
    clock.now += apic.refresh_timeout_s * REFRESH_AT + 1
    leaf_names(client)
    assert client.token != first
    assert apic.paths().count("/api/aaaRefresh.json") == 1
    assert apic.paths().count("/api/aaaLogin.json") == 1
    clock.now += 1  # a fresh token is not refreshed again
    leaf_names(client)
    assert apic.paths().count("/api/aaaRefresh.json") == 1


def test_a_session_near_its_maximum_lifetime_is_replaced_by_a_new_login(apic, client_for):
    clock = FakeClock()
    client = client_for(clock=clock)
    leaf_names(client)
    clock.now += apic.max_lifetime_s * RELOGIN_AT + 1
    leaf_names(client)
    assert apic.paths().count("/api/aaaLogin.json") == 2
    assert "/api/aaaRefresh.json" not in apic.paths()


@pytest.mark.parametrize("status", [403, 401])
def test_a_rejected_token_means_one_new_login_and_the_query_succeeds(apic, client_for, fabric_model, status):
    apic.token_error_status = status
    client = client_for()
    leaf_names(client)
    apic.expire_sessions()
    assert leaf_names(client) == {leaf.name for leaf in fabric_model.aci.leaves}
    assert apic.paths() == ["/api/aaaLogin.json", "/api/class/fabricNode.json", "/api/class/fabricNode.json",
                            "/api/aaaLogin.json", "/api/class/fabricNode.json"]


def test_a_rejected_refresh_falls_back_to_a_login(apic, client_for):
    clock = FakeClock()
    client = client_for(clock=clock)
    leaf_names(client)
    apic.expire_sessions()
    clock.now += apic.refresh_timeout_s * REFRESH_AT + 1
    leaf_names(client)
    assert apic.paths()[-3:] == ["/api/aaaRefresh.json", "/api/aaaLogin.json", "/api/class/fabricNode.json"]


def test_unavailable_answers_are_retried_with_growing_pauses(apic, client_for):
    client = client_for(retries=3, backoff_s=0.25)
    leaf_names(client)
    apic.fail_next(2, status=503)
    assert leaf_names(client)
    assert client.sleeps == [0.25, 0.5]


def test_an_apic_that_keeps_failing_is_reported_with_the_url_and_status(apic, client_for):
    client = client_for(retries=2, backoff_s=0.1)
    leaf_names(client)
    apic.fail_next(3, status=503)
    with pytest.raises(AciUnreachable) as failure:
        leaf_names(client)
    assert f"{apic.base_url}/api/class/fabricNode.json" in str(failure.value)
    assert "503" in str(failure.value) and "3 attempt" in str(failure.value)
    assert failure.value.status == 503 and client.sleeps == [0.1, 0.2]


def test_nothing_listening_is_unreachable_after_the_retries():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    sleeps: list[float] = []
    client = ApicClient(f"http://127.0.0.1:{port}", "admin", "x", retries=1, sleep=sleeps.append)
    try:
        with pytest.raises(AciUnreachable, match=rf"http://127.0.0.1:{port}/api/aaaLogin.json.*ConnectError"):
            client.query_class("fabricNode")
    finally:
        client.close()
    assert len(sleeps) == 1


def test_big_answers_are_read_page_by_page(apic, client_for):
    client = client_for(page_size=25)
    ports = client.query_class("l1PhysIf")
    everything = apic.store.of_class("l1PhysIf")
    assert [p["l1PhysIf"]["attributes"]["dn"] for p in ports] == [mo.dn for mo in everything]
    assert apic.paths().count("/api/class/l1PhysIf.json") == math.ceil((len(everything) + 1) / 25)


def test_an_apic_error_names_the_url_and_the_apic_code(apic, client_for):
    client = client_for()
    with pytest.raises(AciRequestFailed) as failure:
        client.query_class("fabricNode", "eq(fabricNode.role")
    assert failure.value.status == 400 and failure.value.code == "121"
    assert f"{apic.base_url}/api/class/fabricNode.json" in str(failure.value)
    assert isinstance(failure.value, CalipsoError)


def test_close_logs_out(apic, client_for):
    client = client_for()
    leaf_names(client)
    token = client.token
    client.close()
    assert apic.paths()[-1] == "/api/aaaLogout.json"
    assert apic._session(token) is None


def test_the_section_gives_the_url_and_https_by_default():
    client = ApicClient.from_section({"name": "ACI", "host": "apic.example", "user": "admin", "pwd": "x"})
    assert client.base_url == "https://apic.example:443"
    client.close()
    client = ApicClient.from_section({"name": "ACI", "host": "fd00::1", "port": 8443, "user": "a", "pwd": "x"})
    assert client.base_url == "https://[fd00::1]:8443"
    client.close()


def test_a_missing_ca_file_is_a_configuration_error(tmp_path):
    with pytest.raises(ConfigError, match="ca_file"):
        ApicClient.from_section({"name": "ACI", "host": "h", "user": "a", "pwd": "x",
                                 "ca_file": str(tmp_path / "absent.pem")})


# --- TLS -----------------------------------------------------------------------------------


def section(port: int, **extra) -> dict:
    return {"name": "ACI", "host": "127.0.0.1", "port": port, "protocol": "https", "user": "admin",
            "pwd": PASSWORD, **extra}


def test_tls_is_verified_by_default_and_an_unknown_ca_fails_clearly(tls_apic):
    port, _ca = tls_apic
    client = ApicClient.from_section(section(port), sleep=lambda s: None)
    try:
        with pytest.raises(AciTlsError) as failure:
            client.query_class("fabricNode")
    finally:
        client.close()
    message = str(failure.value)
    assert f"https://127.0.0.1:{port}/api/aaaLogin.json" in message
    assert "CERTIFICATE_VERIFY_FAILED" in message and "ca_file" in message


def test_a_pinned_ca_file_makes_tls_work(tls_apic, fabric_model):
    port, ca = tls_apic
    client = ApicClient.from_section(section(port, ca_file=str(ca)))
    try:
        assert leaf_names(client) == {leaf.name for leaf in fabric_model.aci.leaves}
    finally:
        client.close()


def test_verification_can_be_turned_off(tls_apic):
    port, _ca = tls_apic
    client = ApicClient.from_section(section(port, verify_tls=False))
    try:
        assert leaf_names(client)
    finally:
        client.close()
