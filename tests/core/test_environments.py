"""Environment documents: validation with JSON paths, masking, and the ``calipso env`` command."""

from __future__ import annotations

import copy
import json

import pytest

from calipso_core import environments
from calipso_core.errors import ConfigError
from calipso_core.plugins import get_plugin_manager

GOOD = {
    "name": "lab-1",
    "distribution": "Calipso-lab",
    "distribution_version": "1",
    "mechanism_drivers": ["OVS"],
    "type_drivers": "vxlan",
    "listen": True,
    "configuration": [
        {"name": "CLI", "host": "127.0.0.1", "port": 2222, "user": "calipso", "pwd": "s3cret-cli"},
        {"name": "AMQP", "host": "127.0.0.1", "port": 5672, "user": "guest", "pwd": "s3cret-amqp"},
        {"name": "Monitoring", "type": "Calipso", "api_key": "s3cret-key"},
    ],
}


@pytest.fixture(scope="module")
def sections():
    return get_plugin_manager(load_entry_points=False).records("calipso_config_sections")


def errors_of(doc, sections) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        environments.validate(doc, sections)
    return caught.value.errors


def test_a_good_document_passes(sections):
    environments.validate(copy.deepcopy(GOOD), sections)


def bad(**changes):
    doc = copy.deepcopy(GOOD)
    for path, value in changes.items():
        *parents, last = path.split("__")
        target = doc
        for part in parents:
            target = target[int(part)] if part.isdigit() else target[part]
        if value is None:
            del target[int(last) if last.isdigit() else last]
        else:
            target[int(last) if last.isdigit() else last] = value
    return doc


@pytest.mark.parametrize(
    ("doc", "expected"),
    [
        (bad(configuration__0__host=None), ["configuration[0].host: required"]),
        (bad(configuration__1__port="5672"), ["configuration[1].port: '5672' is not of type 'integer'"]),
        (bad(name=None, listen="yes"), ["listen: 'yes' is not of type 'boolean'", "name: required"]),
        (bad(mechanism_drivers=["OVS", "Hyper"]), ["mechanism_drivers[1]: 'Hyper' is not one of"]),
        (bad(configuration__2={"name": "Nope"}), ["configuration[2].name: unknown section 'Nope' (known: AMQP, CLI"]),
        (bad(configuration__2={"name": "CLI", "host": "h", "user": "u", "key": "k"}),
         ["configuration[2].name: section 'CLI' repeats configuration[0]"]),
        (bad(configuration__1=None), ["configuration: listen is true but there is no AMQP section"]),
        (bad(app_path="/opt/calipso"),
         ["(document): Additional properties are not allowed ('app_path' was unexpected)"]),
    ],
)
def test_every_error_is_reported_with_its_path(sections, doc, expected):
    errors = errors_of(doc, sections)
    assert len(errors) == len(expected), errors
    for error, start in zip(errors, expected, strict=True):
        assert error.startswith(start), errors


def test_all_errors_at_once(sections):
    doc = bad(configuration__0__host=None, configuration__0__user=None, type_drivers="ipx")
    assert errors_of(doc, sections) == [
        "configuration[0].host: required",
        "configuration[0].user: required",
        "type_drivers: 'ipx' is not one of ['local', 'vlan', 'vxlan', 'gre', 'flat']",
    ]


def test_secrets_are_masked(sections):
    masked = environments.mask_secrets(GOOD, sections)
    assert [s.get("pwd") for s in masked["configuration"]] == ["****", "****", None]
    assert masked["configuration"][2]["api_key"] == "****"
    assert GOOD["configuration"][0]["pwd"] == "s3cret-cli"  # the original is untouched


def test_env_commands(run_calipso, tmp_path):
    good = tmp_path / "good.json"
    good.write_text(json.dumps(GOOD))
    added = run_calipso("env", "add", str(good))
    assert added.returncode == 0, added.stderr
    again = run_calipso("env", "add", str(good))
    assert again.returncode == 1 and "exists already" in again.stderr
    assert run_calipso("env", "add", "--replace", str(good)).returncode == 0

    listed = json.loads(run_calipso("env", "list", "--format", "json").stdout)
    assert [e["name"] for e in listed] == ["lab-1"]

    shown = run_calipso("env", "show", "lab-1")
    assert shown.returncode == 0
    assert "s3cret" not in shown.stdout and shown.stdout.count('"****"') == 3
    assert json.loads(shown.stdout)["configuration"][0]["host"] == "127.0.0.1"

    missing = run_calipso("env", "show", "nope")
    assert missing.returncode == 1 and "no environment named 'nope'" in missing.stderr


def test_a_bad_file_is_refused_with_every_error(run_calipso, tmp_path):
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(bad(configuration__0__host=None, configuration__1__port=0)))
    result = run_calipso("env", "add", str(path))
    assert result.returncode == 1
    assert "configuration[0].host: required" in result.stderr
    assert "configuration[1].port: 0 is less than the minimum of 1" in result.stderr
    path.write_text("{not json")
    result = run_calipso("env", "add", str(path))
    assert result.returncode == 1 and "is not JSON: line 1 column 2" in result.stderr
    assert json.loads(run_calipso("env", "list", "--format", "json").stdout) == []
