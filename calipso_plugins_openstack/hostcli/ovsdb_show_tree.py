"""The indentation tree of ``ovs-vsctl show``: each line is a named item (``Bridge br-int``)
or a setting (``fail_mode: secure``), nested by four spaces."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from calipso_core.errors import ParseError

KINDS = ("Manager", "Bridge", "Controller", "Port", "Interface")
_KIND_SET = frozenset(KINDS)
_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")

#: Reads a whole item, and as many of the items alike that follow it as it can, given the
#: text and where the item's line starts: what it read and where the last item ends, or
#: None to leave the item to the tree.
Reader = Callable[[str, int], "tuple[Any, int] | None"]


@dataclass(slots=True)
class Item:
    """One line of the tree: ``kind`` and ``value`` (the name as printed) for a named item,
    ``key`` and ``value`` (as printed) for a setting; ``children`` the lines nested in it,
    or ``parsed`` what a reader made of them."""

    command: str
    number: int
    line: str
    kind: str | None
    key: str | None
    value: str
    children: list[Item] = field(default_factory=list)
    parsed: Any = None


def parse_tree(text: str, command: str, readers: Mapping[str, Reader] | None = None) -> Item:
    """The root item (the switch UUID) with everything nested under it. ``readers``: by
    kind, a reader that takes items of that kind with all their lines at once (a bridge
    lists hundreds of ports alike); the item at which it started has no children but
    ``parsed``, what it read of that item and the ones after."""
    readers = readers or {}
    root: Item | None = None
    stack: list[Item] = []
    position, number, end = 0, 0, len(text)
    while position < end:
        stop = text.find("\n", position)
        stop = end if stop < 0 else stop
        line, start, position = text[position:stop], position, stop + 1
        number += 1
        if not line or line.isspace():
            continue
        if root is None:
            if not _UUID.match(line.strip()) or line[0] == " ":
                raise ParseError(command, "expected the Open_vSwitch UUID on the first line", number, line)
            root = Item(command, number, line, "Open_vSwitch", None, line.strip())
            stack.append(root)
            continue
        body = line.lstrip(" ")
        indent = len(line) - len(body)
        depth = indent >> 2
        if indent & 3 or body[0].isspace() or not 1 <= depth <= len(stack):
            raise ParseError(command, "indentation is not a step of four spaces under the line above",
                             number, line)
        body = body.rstrip()
        kind, _, name = body.partition(" ")
        if kind in _KIND_SET and name and not name[0].isspace():
            item = Item(command, number, line, kind, None, name)
            read = readers.get(kind)
            found = read(text, start) if read else None
            if found is not None:
                item.parsed, position = found
                number += text.count("\n", start, position) - 1
        else:
            key, colon, value = body.partition(":")
            if not colon or not key or " " in key or (value and not value.startswith(" ")):
                raise ParseError(command, "expected '<Kind> <name>' or '<key>: <value>'", number, line)
            item = Item(command, number, line, None, key, value.strip())
        del stack[depth:]
        stack[-1].children.append(item)
        if item.parsed is None:  # nothing can nest in an item read whole
            stack.append(item)
    if root is None:
        raise ParseError(command, "expected the Open_vSwitch UUID on the first line", 1, "")
    return root
