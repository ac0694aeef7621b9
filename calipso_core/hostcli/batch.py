"""Several host commands in one SSH exec, and their outputs told apart again.

Discovery gathers a host's state in few round trips: :func:`batch` joins commands into
one bash command line, each followed by an ``echo`` of a marker with the command's
number and exit status::

    ip netns list; echo '@@calipso-batch@@ 1' $?; brctl show; echo '@@calipso-batch@@ 2' $?

:func:`split_batch` cuts the stdout at the markers. A marker is found at the end of a line,
so output that does not end with a newline stays whole. stderr is not split: the commands'
messages arrive together on the channel's stderr.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from calipso_core.errors import ParseError

MARKER = "@@calipso-batch@@"
_MARKER_LINE = re.compile(re.escape(MARKER) + r" (\d+) (\d+)$", re.MULTILINE)


@dataclass(frozen=True)
class BatchResult:
    """What one command of a batch printed on stdout, and its exit status."""

    command: str
    exit_status: int
    stdout: str


def batch(commands: Sequence[str]) -> str:
    """One bash command line that runs ``commands`` in order, each whatever the previous
    one's status, and marks the end of each with its number and exit status."""
    if not commands:
        raise ValueError("a batch needs at least one command")
    parts = []
    for number, command in enumerate(commands, start=1):
        command = command.strip()
        if not command or "\n" in command or command.endswith(("&", ";", "|")):
            raise ValueError(f"command {number} cannot be batched: {command!r}")
        parts.append(f"{command}; echo '{MARKER} {number}' $?")
    return "; ".join(parts)


def split_batch(stdout: str, commands: Sequence[str]) -> list[BatchResult]:
    """The output and exit status of each of ``commands`` from the stdout of their
    :func:`batch`. A missing marker (the shell stopped, the output was cut) is a
    ParseError naming the first command that did not finish."""
    results: list[BatchResult] = []
    position = 0
    for match in _MARKER_LINE.finditer(stdout):
        number, status = int(match.group(1)), int(match.group(2))
        if number != len(results) + 1 or number > len(commands):
            line_number = stdout.count("\n", 0, match.start()) + 1
            raise ParseError("batch", f"marker {number} where marker {len(results) + 1} was due",
                             line_number, match.group(0))
        results.append(BatchResult(commands[number - 1], status, stdout[position : match.start()]))
        position = match.end() + 1
    if len(results) < len(commands):
        missing = commands[len(results)]
        raise ParseError(
            "batch", f"command {len(results) + 1} of {len(commands)} ({missing!r}) has no end marker: "
            "the shell stopped or the output was cut",
        )
    if stdout[position:].strip():
        line_number = stdout.count("\n", 0, position) + 1
        raise ParseError("batch", "output after the last marker", line_number, stdout[position:].splitlines()[0])
    return results
