"""batch/split_batch: several commands in one exec, checked against a real bash."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from calipso_core.errors import ParseError
from calipso_core.hostcli.batch import MARKER, BatchResult, batch, split_batch

COMMANDS = [
    "echo 'two lines'; echo second",
    "printf 'no newline at the end'",
    "false",
    "calipso-no-such-command --really",
    "true && echo ARCHITECURE=`echo x86_64`",
    "printf ''",
]


def run_in_bash(command_line: str) -> subprocess.CompletedProcess:
    if shutil.which("bash") is None:
        pytest.skip("bash is not installed")
    return subprocess.run(["bash", "-c", command_line], capture_output=True, text=True, timeout=30, check=False)


def test_batch_line_runs_in_a_real_bash_and_splits_per_command():
    line = batch(COMMANDS)
    assert line.startswith(f"echo 'two lines'; echo second; echo '{MARKER} 1' $?; printf")
    done = run_in_bash(line)
    assert done.returncode == 0 and "calipso-no-such-command" in done.stderr
    assert split_batch(done.stdout, COMMANDS) == [
        BatchResult(COMMANDS[0], 0, "two lines\nsecond\n"),
        BatchResult(COMMANDS[1], 0, "no newline at the end"),
        BatchResult(COMMANDS[2], 1, ""),
        BatchResult(COMMANDS[3], 127, ""),
        BatchResult(COMMANDS[4], 0, "ARCHITECURE=x86_64\n"),
        BatchResult(COMMANDS[5], 0, ""),
    ]


def test_missing_marker_names_the_command_that_did_not_finish():
    commands = ["echo a", "exit 3", "echo never"]
    done = run_in_bash(batch(commands))
    assert done.returncode == 3
    with pytest.raises(ParseError) as caught:
        split_batch(done.stdout, commands)
    assert "command 2 of 3 ('exit 3')" in str(caught.value)


def test_markers_out_of_order_or_trailing_output_are_errors():
    with pytest.raises(ParseError) as caught:
        split_batch(f"x\n{MARKER} 2 0\n", ["a", "b"])
    assert caught.value.line_number == 2 and "marker 2 where marker 1" in caught.value.reason
    with pytest.raises(ParseError) as caught:
        split_batch(f"{MARKER} 1 0\njunk\n", ["a"])
    assert caught.value.line_number == 2 and caught.value.line == "junk"


@pytest.mark.parametrize("commands", [[], ["echo a", "   "], ["echo a\necho b"], ["sleep 1 &"]])
def test_commands_that_cannot_be_batched_are_refused(commands):
    with pytest.raises(ValueError):
        batch(commands)
