"""Open vSwitch host commands: ``ovs-vsctl show``, ``list-br``, ``list-ifaces BR``
(:mod:`.ovs_vsctl`) and ``ovs-dpctl show`` (:mod:`.ovs_dpctl`), parsed into records and
rendered back in the tools' layout, like the generic ones in ``calipso_core.hostcli``."""
