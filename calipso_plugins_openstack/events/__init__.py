"""The OpenStack plugin's notification handlers (registered with ``calipso_event_handlers``)."""
