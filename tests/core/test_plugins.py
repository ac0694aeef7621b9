"""Plugin discovery through entry points, with test-only plugin distributions."""

from __future__ import annotations

import inspect
import json
import subprocess
import sys
from pathlib import Path

import pytest

from calipso_core import hookimpl, hookspecs
from calipso_core.errors import PluginError
from calipso_core.plugins import HOOK_RECORDS, PluginInfo, get_plugin_manager
from calipso_core.types import ConfigSection

TEST_PLUGINS = Path(__file__).resolve().parents[1] / "plugins"


@pytest.fixture(scope="session")
def installed_test_plugin(tmp_path_factory):
    """Install a test-only plugin distribution into its own folder; returns that folder."""

    def install(name: str) -> Path:
        target = tmp_path_factory.mktemp(name)
        subprocess.run(
            [sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--target", str(target),
             str(TEST_PLUGINS / name)],
            check=True, capture_output=True, timeout=300,
        )
        return target

    return install


def plugins_json(run_calipso, path: Path) -> subprocess.CompletedProcess:
    return run_calipso("plugins", "--format", "json", env={"PYTHONPATH": str(path)})


def test_core_defaults_are_registered_like_plugins():
    pm = get_plugin_manager(load_entry_points=False)
    assert list(pm.infos) == ["core"]
    assert pm.infos["core"].distribution == "calipso-core"
    assert {"CLI", "AMQP", "Monitoring"} <= set(pm.records("calipso_config_sections"))
    assert "environment" in pm.records("calipso_scanners")


def test_a_broken_plugin_is_reported_and_skipped(run_calipso, installed_test_plugin):
    result = plugins_json(run_calipso, installed_test_plugin("broken"))
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert [f["name"] for f in report["load_failures"]] == ["broken"]
    failure = report["load_failures"][0]
    assert failure["distribution"] == "calipso-test-broken"
    assert failure["entry_point"] == "broken = calipso_test_broken"
    assert "calipso_missing_dependency" in failure["error"]
    assert "core" in [p["name"] for p in report["plugins"]]


def test_a_duplicate_name_is_one_error_naming_both(run_calipso, installed_test_plugin):
    result = plugins_json(run_calipso, installed_test_plugin("duplicate"))
    assert result.returncode == 1
    assert "ConfigSection 'CLI' is registered twice" in result.stderr
    assert "plugin 'core' (calipso-core)" in result.stderr
    assert "plugin 'duplicate' (calipso-test-duplicate)" in result.stderr


class WrongRecords:
    @hookimpl
    def calipso_config_sections(self):
        return [{"name": "loose dict"}]


def test_a_hook_returning_the_wrong_record_type_is_refused():
    pm = get_plugin_manager(load_entry_points=False)
    pm.register_plugin(WrongRecords(), PluginInfo("wrong", "calipso-test-wrong", "0", "tests"))
    with pytest.raises(PluginError, match="plugin 'wrong' returned .* expected ConfigSection"):
        pm.records("calipso_config_sections")


def test_two_plugins_with_one_name_are_refused():
    pm = get_plugin_manager(load_entry_points=False)
    with pytest.raises(PluginError, match="two plugins are named 'core'"):
        pm.register_plugin(WrongRecords(), PluginInfo("core", "calipso-test-wrong", "0", "tests"))


def test_a_plugin_named_in_configuration_must_be_installed():
    pm = get_plugin_manager(load_entry_points=False)
    with pytest.raises(PluginError, match="nosuch named in configuration are not installed"):
        pm.require(["core", "nosuch"])


class Extra:
    @hookimpl
    def calipso_config_sections(self):
        return [ConfigSection("Extra", {"type": "object"})]


def test_contributions_name_their_plugin():
    pm = get_plugin_manager(load_entry_points=False)
    pm.register_plugin(Extra(), PluginInfo("extra", "calipso-test-extra", "0", "tests"))
    by_plugin = {(c.plugin, c.record.name) for c in pm.contributions("calipso_config_sections")}
    assert ("extra", "Extra") in by_plugin and ("core", "CLI") in by_plugin


def test_every_hook_is_documented_typed_and_tested():
    specs = {name for name, _ in inspect.getmembers(hookspecs, inspect.isfunction) if name.startswith("calipso_")}
    assert specs == set(hookspecs.HOOK_NAMES) == set(HOOK_RECORDS)
    tests_text = "\n".join(p.read_text() for p in Path(__file__).resolve().parents[1].rglob("test_*.py")
                           if p.name != Path(__file__).name)
    for name in specs:
        spec = getattr(hookspecs, name)
        assert len(inspect.getdoc(spec) or "") > 40, f"{name} has no real docstring"
        assert inspect.signature(spec).return_annotation.startswith("list["), name
        assert name in tests_text, f"no test mentions {name}"


def test_loading_the_plugins_leaves_the_lab_code_alone():
    """A scan, the API or a listener loads the plugins; none of them imports the lab (the
    simulated data centre), whose services are built only when the lab asks for them."""
    check = ("import sys\n"
             "from calipso_core.plugins import get_plugin_manager\n"
             "pm = get_plugin_manager()\n"
             "print(sorted(m for m in sys.modules if '.lab' in m))\n"
             "print(sorted(pm.records('calipso_lab_services')))\n")
    result = subprocess.run([sys.executable, "-c", check], capture_output=True, text=True, timeout=120, check=True)
    lab_modules, services = result.stdout.splitlines()
    assert lab_modules == "[]"
    assert "vpp-hosts" in services
