"""The OpenStack plugin's fetchers: from the APIs and from the hosts."""
