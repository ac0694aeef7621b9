"""Keeping the inventory live from the cloud's notifications.

The listener (``calipso_core.listener``) hands batches of notifications to an
``EventProcessor`` (``calipso_core.events.processor``); each notification goes to the
plugin handler registered for its event type (``calipso_event_handlers``), which
receives an ``EventContext``: the environment, the batch's database transaction, the
environment's sources (APIs, hosts) and the means to change the inventory, rescan a
subtree and ask for the links and cliques of a host to be recomputed. What handlers ask
to be done later is done once per batch, then the batch commits and only then is it
acknowledged.
"""

from calipso_core.events.context import EventContext, EventError

__all__ = ["EventContext", "EventError"]
