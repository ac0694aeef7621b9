"""Deterministic identifiers and address pools for the lab.

Everything is drawn from one ``random.Random`` so that the same seed gives the same
data centre, byte for byte.
"""

from __future__ import annotations

import heapq
import ipaddress
import random
import uuid
from datetime import UTC, datetime, timedelta

from calipso_core.errors import CalipsoError

#: Neutron's default MAC prefix for ports (``base_mac = fa:16:3e:00:00:00``).
NEUTRON_OUI = "fa:16:3e"

#: The moment the generated cloud was deployed; every generated time is after it.
EPOCH = datetime(2025, 3, 1, 8, 0, 0, tzinfo=UTC)


class LabError(CalipsoError):
    """Raised by the lab model when a mutation is impossible: the object is unknown, still
    in use, or a pool (addresses, VLAN ids) is exhausted. ``status`` is the HTTP status a
    real OpenStack API answers in that case (404, 409)."""

    def __init__(self, message: str, status: int = 409, error_type: str = "Conflict"):
        self.status = status
        self.error_type = error_type
        super().__init__(message)


def iso(moment: datetime) -> str:
    """``2025-03-01T08:00:00Z``: how the model stores times."""
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def utc_now() -> datetime:
    """The model's default clock."""
    return datetime.now(UTC)


class IdMaker:
    """UUIDs, MACs and times drawn from one seeded generator."""

    def __init__(self, rng: random.Random):
        self.rng = rng
        self.used_macs: set[str] = set()

    def uuid(self) -> str:
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    def hex32(self) -> str:
        """A Keystone-style id: 32 hex digits, no dashes."""
        return uuid.UUID(int=self.rng.getrandbits(128), version=4).hex

    def mac(self, oui: str = NEUTRON_OUI) -> str:
        """A MAC address under ``oui`` that this maker has not handed out before."""
        for _ in range(1000):
            low = self.rng.getrandbits(24)
            mac = f"{oui}:{low >> 16:02x}:{(low >> 8) & 0xFF:02x}:{low & 0xFF:02x}"
            if mac not in self.used_macs:
                self.used_macs.add(mac)
                return mac
        raise LabError(f"no free MAC address left under {oui}")

    def release_mac(self, mac: str) -> None:
        self.used_macs.discard(mac)

    def time_after(self, start: datetime, max_seconds: int) -> str:
        return iso(start + timedelta(seconds=self.rng.randrange(max_seconds)))


class IpPool:
    """The free addresses of one subnet's allocation range, lowest first."""

    __slots__ = ("network", "_first", "_last", "_next", "_freed", "_taken")

    def __init__(self, cidr: str, first_offset: int = 2, last_offset: int | None = None):
        self.network = ipaddress.IPv4Network(cidr)
        size = self.network.num_addresses
        self._first = first_offset
        self._last = (size - 2) if last_offset is None else last_offset
        self._next = first_offset
        self._freed: list[int] = []
        self._taken: set[int] = set()

    @property
    def first(self) -> str:
        return str(self.network.network_address + self._first)

    @property
    def last(self) -> str:
        return str(self.network.network_address + self._last)

    def allocate(self) -> str:
        while self._freed:
            offset = heapq.heappop(self._freed)
            if offset not in self._taken:
                return self._take(offset)
        while self._next <= self._last:
            offset = self._next
            self._next += 1
            if offset not in self._taken:
                return self._take(offset)
        raise LabError(f"subnet {self.network} has no free address left", 409, "IpAddressGenerationFailure")

    def _take(self, offset: int) -> str:
        self._taken.add(offset)
        return str(self.network.network_address + offset)

    def release(self, address: str) -> None:
        offset = int(ipaddress.IPv4Address(address)) - int(self.network.network_address)
        if offset in self._taken:
            self._taken.discard(offset)
            if self._first <= offset <= self._last:
                heapq.heappush(self._freed, offset)


class SmallIdPool:
    """Small integers handed out lowest-free-first (OVS local VLAN tags, VPP interface
    instance numbers, bridge-domain ids)."""

    __slots__ = ("_next", "_freed", "_limit", "_what")

    def __init__(self, first: int, limit: int, what: str):
        self._next = first
        self._freed: list[int] = []
        self._limit = limit
        self._what = what

    def take(self) -> int:
        if self._freed:
            return heapq.heappop(self._freed)
        if self._next > self._limit:
            raise LabError(f"no free {self._what} left (limit {self._limit})")
        self._next += 1
        return self._next - 1

    def give_back(self, number: int) -> None:
        heapq.heappush(self._freed, number)
