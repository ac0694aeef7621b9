"""The lab APIC's managed objects, and how class and mo queries select them.

A ``Mo`` is one managed object: its class, attributes (with ``dn``) and child objects
(with ``rn``). ``MoStore`` holds them all and answers what the APIC's query parameters
ask for: ``query-target`` (``self``, ``children``, ``subtree``), ``target-subtree-class``,
``query-target-filter``, ``rsp-subtree`` / ``rsp-subtree-class`` and ``order-by``.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

Predicate = Callable[["Mo"], bool]


@dataclass(frozen=True)
class Mo:
    cls: str
    attributes: dict[str, str]
    children: tuple[Mo, ...] = field(default=())

    @property
    def dn(self) -> str:
        return self.attributes["dn"]

    def render(self, child_classes: set[str] | None = None, with_children: bool = False) -> dict:
        """The object as the APIC writes it in ``imdata``."""
        body: dict = {"attributes": dict(self.attributes)}
        if with_children:
            kids = [c.render() for c in self.children if not child_classes or c.cls in child_classes]
            if kids:
                body["children"] = kids
        return {self.cls: body}

    def flattened(self) -> list[Mo]:
        """This object and its children, each child with its full dn."""
        found = [self]
        for child in self.children:
            found += Mo(child.cls, {"dn": f"{self.dn}/{child.attributes['rn']}", **child.attributes},
                        child.children).flattened()
        return found


def parent_dn(dn: str) -> str:
    """The dn one level up; a ``/`` inside brackets (``phys-[eth1/33]``) does not count."""
    depth, cut = 0, -1
    for index, char in enumerate(dn):
        if char == "[":
            depth += 1
        elif char == "]":
            depth -= 1
        elif char == "/" and depth == 0:
            cut = index
    return dn[:cut] if cut >= 0 else ""


class MoStore:
    """Every managed object of the lab fabric, by class and by dn."""

    def __init__(self, mos: Iterable[Mo]):
        self.all = sorted((m for mo in mos for m in mo.flattened()), key=lambda m: m.dn)
        self.by_class: dict[str, list[Mo]] = defaultdict(list)
        self.by_dn: dict[str, Mo] = {}
        for mo in self.all:
            self.by_class[mo.cls].append(mo)
            self.by_dn[mo.dn] = mo

    def of_class(self, cls: str) -> list[Mo]:
        return self.by_class.get(cls, [])

    def below(self, dn: str, target: str, classes: set[str] | None) -> list[Mo]:
        """``query-target`` of the object ``dn``: itself, its children or its subtree."""
        if target == "self":
            found = [self.by_dn[dn]] if dn in self.by_dn else []
        elif target == "children":
            found = [m for m in self.all if parent_dn(m.dn) == dn]
        else:
            found = [m for m in self.all if m.dn == dn or m.dn.startswith(dn + "/")]
        return [m for m in found if not classes or m.cls in classes]


def ordered(mos: list[Mo], order_by: str | None) -> list[Mo]:
    """``order-by=<class>.<attribute>[|asc|desc]``; dn order otherwise."""
    if not order_by:
        return mos
    prop, _, direction = order_by.partition("|")
    attribute = prop.split(".", 1)[-1]
    return sorted(mos, key=lambda m: (m.attributes.get(attribute, ""), m.dn), reverse=direction == "desc")
