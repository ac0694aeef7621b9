"""The lab cloud's OpenStack HTTP APIs (Keystone, Nova, Neutron, Placement), served from
a lab model by ``LabApiServer``."""

from calipso_plugins_openstack.lab.api.server import LabApiError, LabApiServer

__all__ = ["LabApiError", "LabApiServer"]
