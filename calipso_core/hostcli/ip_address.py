"""The address lines of ``ip address show``: ``inet``/``inet6`` and their lifetimes.

::

        inet 192.168.2.1/24 brd 192.168.2.255 scope global br-mesh
           valid_lft forever preferred_lft forever
        inet6 fe80::d4e1:8fff:fe33:ed6a/64 scope global mngtmpaddr dynamic
           valid_lft 2591951sec preferred_lft 604751sec

The interface blocks around them are in :mod:`calipso_core.hostcli.ip_link`.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

from calipso_core.errors import ParseError

ADDRESS_INDENT = "    "
LIFETIME_INDENT = "       "
FAMILIES = ("inet", "inet6")
#: Words iproute2 prints after ``scope`` for address flags (never an IPv4 label).
ADDRESS_FLAGS = frozenset((
    "secondary", "temporary", "primary", "nodad", "optimistic", "dadfailed", "home", "deprecated",
    "tentative", "permanent", "mngtmpaddr", "noprefixroute", "autojoin", "stable-privacy", "dynamic",
))


@dataclass(frozen=True, slots=True)
class Address:
    """One address of an interface, as ``ip address show`` prints it.

    ``label`` is printed for IPv4 only (the interface name, or ``eth0:1`` for an alias);
    ``valid_lft``/``preferred_lft`` are ``forever`` or ``<n>sec`` (None: no lifetime line).
    """

    family: str
    address: str
    prefixlen: int
    broadcast: str | None = None
    scope: str = "global"
    flags: tuple[str, ...] = ()
    label: str | None = None
    peer: str | None = None
    valid_lft: str | None = "forever"
    preferred_lft: str | None = "forever"

    @property
    def interface(self) -> ipaddress.IPv4Interface | ipaddress.IPv6Interface:
        """The address with its prefix, e.g. ``IPv4Interface('192.168.2.1/24')``."""
        return ipaddress.ip_interface(f"{self.address}/{self.prefixlen}")

    @property
    def cidr(self) -> str:
        """The network the address is in, e.g. ``192.168.2.0/24``."""
        return str(self.interface.network)

    @property
    def netmask(self) -> str:
        """The prefix as a mask, e.g. ``255.255.255.0``."""
        return str(self.interface.netmask)


def parse_address_line(command: str, number: int, line: str) -> Address:
    """An :class:`Address` from one ``inet``/``inet6`` line; its lifetimes are None until
    the caller reads the ``valid_lft`` line that follows."""
    return Address(*address_fields(command, number, line, line.split()))


def address_fields(command: str, number: int, line: str, words: list[str]) -> list:
    """The fields of the :class:`Address` on ``line`` (split into ``words``), in order,
    the lifetimes None."""
    family = words[0]
    if family not in FAMILIES or len(words) < 2:
        raise ParseError(command, "expected 'inet' or 'inet6' and an address", number, line)
    local, i = words[1], 2
    peer = None
    if i < len(words) and words[i] == "peer":
        if i + 1 >= len(words):
            raise ParseError(command, "'peer' without an address", number, line)
        peer, i = words[i + 1], i + 2
    address, prefixlen = _split_prefix(command, number, line, peer or local)
    if peer:
        peer, address = address, local
    broadcast, scope = None, None
    while i < len(words) and scope is None:
        word = words[i]
        if word not in ("brd", "scope") or i + 1 >= len(words):
            raise ParseError(command, f"unexpected {word!r} before 'scope'", number, line)
        if word == "brd":
            broadcast = words[i + 1]
        else:
            scope = words[i + 1]
        i += 2
    if scope is None:
        raise ParseError(command, "address without 'scope'", number, line)
    rest = words[i:]
    label = None
    if family == "inet" and rest and rest[-1] not in ADDRESS_FLAGS:
        label = rest.pop()
    return [family, address, prefixlen, broadcast, scope, tuple(rest), label, peer, None, None]


def _split_prefix(command: str, number: int, line: str, text: str) -> tuple[str, int]:
    address, slash, prefix = text.partition("/")
    if not slash or not prefix.isdigit():
        raise ParseError(command, f"address without a prefix length: {text!r}", number, line)
    return address, int(prefix)


def parse_lifetime_line(command: str, number: int, line: str) -> tuple[str, str]:
    """(valid_lft, preferred_lft) from a ``valid_lft X preferred_lft Y`` line."""
    words = line.split()
    if len(words) != 4 or words[0] != "valid_lft" or words[2] != "preferred_lft":
        raise ParseError(command, "expected 'valid_lft <t> preferred_lft <t>'", number, line)
    return words[1], words[3]


def render_address(address: Address) -> list[str]:
    """The line (and lifetime line) ``ip address show`` prints for ``address``."""
    if address.peer:
        words = [address.family, address.address, "peer", f"{address.peer}/{address.prefixlen}"]
    else:
        words = [address.family, f"{address.address}/{address.prefixlen}"]
    if address.broadcast:
        words += ["brd", address.broadcast]
    words += ["scope", address.scope, *address.flags]
    if address.label:
        words.append(address.label)
    lines = [ADDRESS_INDENT + " ".join(words)]
    if address.valid_lft is not None:
        lines.append(f"{LIFETIME_INDENT}valid_lft {address.valid_lft} preferred_lft {address.preferred_lft}")
    return lines
