"""The host commands Calipso runs over SSH: for each, a parser (real output → small frozen
records) and a renderer (records → text in the real tool's exact layout), so that
``parse(render(records)) == records``. Discovery parses what real or lab hosts print; the
lab renders its model with the same records.

Each module covers one tool and names its command lines: :mod:`.ip_netns`,
:mod:`.ip_link` (``ip link``/``ip -d link``/``ip address show``, with :mod:`.ip_address`
and :mod:`.vxlan`), :mod:`.sys_class_net`, :mod:`.ethtool`, :mod:`.bonding`,
:mod:`.brctl`, :mod:`.bridge_fdb`, :mod:`.virsh`, :mod:`.libvirt_domain` and
:mod:`.libvirt_xml` (``virsh dumpxml``), :mod:`.os_release`; :mod:`.batch` runs several
commands in one SSH exec. Output not in the tool's format raises
:class:`calipso_core.errors.ParseError` naming the command, line and reason.
"""
