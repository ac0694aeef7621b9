"""Running commands on an environment's hosts during a scan: one kept-open SSH connection
per host, and several commands in one round trip."""

from __future__ import annotations

from collections.abc import Sequence

from calipso_core.db import calipso_home
from calipso_core.errors import CommandFailed
from calipso_core.hostcli.batch import BatchResult, batch, split_batch
from calipso_core.scan.context import ScanContext
from calipso_core.sshclient import SshPool


def ssh_pool(ctx: ScanContext) -> SshPool:
    """The scan's SSH pool, from the environment's ``CLI`` section: it asks at most the
    scan's ``concurrency`` hosts at once, whichever of the scan's pools asks. Host keys are
    recorded in the section's ``known_hosts`` file (by default ``$CALIPSO_HOME/known_hosts``)."""

    def build(c: ScanContext) -> SshPool:
        section = dict(c.section("CLI"))
        section.setdefault("known_hosts", str(calipso_home() / "known_hosts"))
        # it logs every host key it records on first use
        return SshPool(section, hosts_at_once=c.settings.get("concurrency"))

    return ctx.client("ssh", build)


def run_batch(ctx: ScanContext, host: str, commands: Sequence[str],
              timeout: float = 60.0) -> tuple[list[BatchResult], str]:
    """Run ``commands`` on ``host`` in one SSH exec: each one's stdout and exit status, and
    the stderr of them all."""
    result = ssh_pool(ctx).run(host, batch(commands), timeout)
    return split_batch(result.stdout, commands), result.stderr


def run_commands(ctx: ScanContext, host: str, commands: Sequence[str], timeout: float = 60.0) -> dict[str, str]:
    """Run ``commands`` on ``host`` in one SSH exec and return each one's stdout.
    A command that exits non-zero raises ``CommandFailed`` naming it."""
    parts, stderr = run_batch(ctx, host, commands, timeout)
    return outputs_of(host, parts, stderr)


def outputs_of(host: str, parts: Sequence[BatchResult], stderr: str) -> dict[str, str]:
    """Each command's stdout; ``CommandFailed`` for the first that exited non-zero."""
    for part in parts:
        if part.exit_status != 0:
            raise CommandFailed(host, part.command, part.exit_status, stderr)
    return {part.command: part.stdout for part in parts}
