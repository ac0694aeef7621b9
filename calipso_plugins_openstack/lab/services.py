"""The OpenStack plugin's parts of the lab: the cloud's APIs and its hosts' Open vSwitch."""

from __future__ import annotations

from calipso_core.types import LabService
from calipso_plugins_openstack.lab.truth import openstack_truth


class _Nothing:
    def stop(self) -> None:
        pass


def start_api(lab):
    from calipso_plugins_openstack.lab.api.server import LabApiServer

    server = LabApiServer(lab.model, password=lab.secret, latency_ms=lab.options.latency_ms).start()
    lab.add_section({"name": "OpenStack", "host": "127.0.0.1", "port": server.port, "user": "admin",
                     "pwd": lab.secret, "admin_project": "admin"})
    return server


def start_notifications(lab):
    from calipso_plugins_openstack.lab.notify import start_notifications as start

    return start(lab)


def start_hosts(lab):
    if lab.model.mechanism_driver == "OVS":
        from calipso_plugins_openstack.lab.ovs_host import ovs_commands

        lab.add_host_commands(ovs_commands)
    return _Nothing()


LAB_SERVICES = [
    LabService("openstack-api", start_api, description="Keystone, Nova and Neutron on loopback"),
    LabService("openstack-hosts", start_hosts, truth=openstack_truth,
               description="Open vSwitch on the hosts; the OpenStack ground truth"),
    LabService("openstack-notifications", start_notifications,
               description="Nova and Neutron notifications of every change, on the lab's RabbitMQ"),
]
