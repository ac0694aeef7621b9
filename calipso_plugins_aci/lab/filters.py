"""The APIC's ``query-target-filter`` expressions, as the lab APIC evaluates them.

    eq(fabricNode.role,"leaf")
    and(wcard(epmMacEp.ifId,"eth"),eq(epmMacEp.addr,"00:50:56:99:5D:70"))

Operators: ``eq``, ``ne``, ``lt``, ``gt``, ``le``, ``ge`` (numbers compare as numbers),
``wcard`` (a regular expression searched in the value), ``and``, ``or``, ``not``. A
property names a class and an attribute; an object of another class has no such
attribute, so only ``ne`` holds for it.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable

from calipso_plugins_aci.lab.mos import Mo, Predicate

_TOKEN = re.compile(r'\s*(?:(?P<word>[A-Za-z][A-Za-z0-9_]*(?:\.[A-Za-z][A-Za-z0-9_]*)?)|"(?P<text>[^"]*)"'
                    r'|(?P<punct>[(),]))')
_COMPARE: dict[str, Callable[[object, object], bool]] = {
    "eq": operator.eq, "ne": operator.ne, "lt": operator.lt, "gt": operator.gt, "le": operator.le, "ge": operator.ge,
}


class FilterError(ValueError):
    """A filter the APIC would not accept; the message says where it went wrong."""


def _tokens(text: str) -> list[tuple[str, str]]:
    found, position = [], 0
    text = text.strip()
    while position < len(text):
        match = _TOKEN.match(text, position)
        if not match or match.end() == position:
            raise FilterError(f"unexpected {text[position:position + 10]!r} at {position} in filter {text!r}")
        kind = match.lastgroup
        found.append((kind, match.group(kind)))
        position = match.end()
    return found


def parse_filter(text: str) -> Predicate:
    """A predicate on managed objects; ``FilterError`` when ``text`` is not a filter."""
    tokens = _tokens(text)
    predicate, end = _expression(tokens, 0, text)
    if end != len(tokens):
        raise FilterError(f"trailing text after the expression in filter {text!r}")
    return predicate


def _expect(tokens, index: int, value: str, text: str) -> int:
    if index >= len(tokens) or tokens[index] != ("punct", value):
        raise FilterError(f"expected {value!r} in filter {text!r}")
    return index + 1


def _expression(tokens, index: int, text: str) -> tuple[Predicate, int]:
    if index >= len(tokens) or tokens[index][0] != "word":
        raise FilterError(f"expected an operator in filter {text!r}")
    name = tokens[index][1]
    index = _expect(tokens, index + 1, "(", text)
    if name in ("and", "or", "not"):
        parts = []
        while True:
            part, index = _expression(tokens, index, text)
            parts.append(part)
            if tokens[index:index + 1] == [("punct", ",")]:
                index += 1
                continue
            break
        index = _expect(tokens, index, ")", text)
        return _logical(name, parts, text), index
    if name not in _COMPARE and name != "wcard":
        raise FilterError(f"unknown operator {name!r} in filter {text!r}")
    if index + 3 >= len(tokens) or tokens[index][0] != "word" or tokens[index + 1] != ("punct", ",") \
            or tokens[index + 2][0] != "text":
        raise FilterError(f"{name} takes a property and a quoted value in filter {text!r}")
    prop, value = tokens[index][1], tokens[index + 2][1]
    index = _expect(tokens, index + 3, ")", text)
    return _comparison(name, prop, value, text), index


def _logical(name: str, parts: list[Predicate], text: str) -> Predicate:
    if name == "not":
        if len(parts) != 1:
            raise FilterError(f"not takes one expression in filter {text!r}")
        return lambda mo: not parts[0](mo)
    combine = all if name == "and" else any
    return lambda mo: combine(part(mo) for part in parts)


def _comparison(name: str, prop: str, value: str, text: str) -> Predicate:
    if "." not in prop:
        raise FilterError(f"property {prop!r} must be <class>.<attribute> in filter {text!r}")
    cls, attribute = prop.split(".", 1)
    if name == "wcard":
        try:
            pattern = re.compile(value)
        except re.error as error:
            raise FilterError(f"bad wcard pattern {value!r} in filter {text!r}: {error}") from None
        return lambda mo: (mo.cls == cls and attribute in mo.attributes
                           and bool(pattern.search(mo.attributes[attribute])))
    compare = _COMPARE[name]

    def test(mo: Mo) -> bool:
        if mo.cls != cls or attribute not in mo.attributes:
            return name == "ne"
        have, want = _comparable(mo.attributes[attribute], value)
        return compare(have, want)

    return test


def _comparable(have: str, want: str) -> tuple[object, object]:
    try:
        return float(have), float(want)
    except ValueError:
        return have, want
