"""Nova's instance notifications, legacy (``compute.instance.*``) and versioned (``instance.*``).

What an instance is made of on its host (vNICs, the bridge of each port, the vEdge ports)
is only known by asking the host, so an instance that was created, rebuilt, deleted,
stopped, started, suspended or resumed makes its host be rescanned and relinked once
per batch. A rename changes only the instance (re-read from the API) and the name paths
below it. Events about an instance this listener deleted since are stale and skipped.
"""

from __future__ import annotations

from calipso_core.events import EventError
from calipso_plugins_openstack.events.payloads import InstanceNote, instance_note
from calipso_plugins_openstack.events.refresh import refresh_host, refresh_instance

#: Instance actions whose end changes what the host shows.
HOST_ACTIONS = ("create", "rebuild", "power_off", "power_on", "shutdown", "suspend", "resume", "reboot",
                "pause", "unpause", "interface_attach", "interface_detach")
LEGACY = "compute.instance."
VERSIONED = "instance."


def _note(ev, note) -> InstanceNote | None:
    instance = instance_note(note.payload)
    if ev.is_stale(instance.id, ev.version()):
        ev.stats["stale"] += 1
        return None
    return instance


def _host(instance: InstanceNote) -> str:
    if not instance.host:
        raise EventError("instance host is missing: cannot tell which host to rescan", instance.id, "instance")
    return instance.host


def handle_instance_action(ev, note) -> None:
    """``compute.instance.<action>.end``: rescan the instance's host."""
    instance = _note(ev, note)
    if instance is not None:
        refresh_host(ev, _host(instance))


def handle_instance_delete(ev, note) -> None:
    """``compute.instance.delete.end``: remove the instance now, rescan its host later."""
    instance = _note(ev, note)
    if instance is None:
        return
    stored = ev.get(instance.id)
    host = instance.host or (stored or {}).get("host")
    if stored is not None and stored.get("type") == "instance":
        ev.delete(instance.id)
    elif stored is None:
        ev.memory.deleted(instance.id, ev.version())
    if host:
        refresh_host(ev, host)


def handle_instance_update(ev, note) -> None:
    """``compute.instance.update``: a rename, or the end of an instance (state deleted)."""
    instance = _note(ev, note)
    if instance is None:
        return
    if instance.state == "deleted":
        handle_instance_delete(ev, note)
        return
    stored = ev.get(instance.id)
    if stored is not None and instance.name is not None and stored.get("name") != instance.name:
        refresh_instance(ev, stored)


def event_types(prefix: str, actions: tuple[str, ...], phase: str = ".end") -> tuple[str, ...]:
    return tuple(f"{prefix}{action}{phase}" for action in actions)


ACTION_EVENTS = event_types(LEGACY, HOST_ACTIONS) + event_types(VERSIONED, HOST_ACTIONS)
DELETE_EVENTS = (f"{LEGACY}delete.end", f"{VERSIONED}delete.end")
UPDATE_EVENTS = (f"{LEGACY}update", f"{VERSIONED}update")
#: Announced but carrying nothing the end events do not.
IGNORED_EVENTS = (event_types(LEGACY, (*HOST_ACTIONS, "delete"), ".start")
                  + event_types(VERSIONED, (*HOST_ACTIONS, "delete"), ".start")
                  + ("compute.instance.exists", "instance.exists", "compute.instance.create.error",
                     "scheduler.select_destinations.start", "scheduler.select_destinations.end"))
