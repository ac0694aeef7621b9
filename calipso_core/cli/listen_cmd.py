"""``calipso listen ENV``: apply an environment's notifications to its inventory until stopped."""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
import warnings

from rich.console import Console

from calipso_core.errors import CalipsoError
from calipso_core.listener import EXIT_START_AGAIN, ListenOptions, listen

LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")


def until_signalled(log_level: str) -> threading.Event:
    """Log to stderr at ``log_level``; return an event that SIGINT or SIGTERM sets."""
    logging.basicConfig(level=log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    for chatty in ("paramiko", "pgserver"):  # a line per SSH login, per database start
        logging.getLogger(chatty).setLevel(max(logging.WARNING, logging.getLevelName(log_level)))
    logging.getLogger("amqp").addFilter(_not_delivered_while_closing)
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    return stop


def _not_delivered_while_closing(record: logging.LogRecord) -> bool:
    """py-amqp warns of every message the broker still delivers to a channel being closed,
    as a listener that stops closes its own: one line per message it had prefetched. Not
    acknowledged, each of them is delivered again."""
    return "during closing channel" not in str(record.msg)


def register(commands) -> None:
    parser = commands.add_parser("listen", help="keep an environment's inventory live from its notifications")
    parser.add_argument("env", help="environment name (it needs an AMQP section)")
    parser.add_argument("--batch-size", type=int, default=ListenOptions.batch_size,
                        help=f"notifications applied in one transaction at most (default {ListenOptions.batch_size})")
    parser.add_argument("--batch-timeout", type=float, default=ListenOptions.batch_timeout,
                        help=f"seconds to wait for a batch to fill (default {ListenOptions.batch_timeout})")
    parser.add_argument("--no-versioned", dest="versioned", action="store_false",
                        help="do not read Nova's versioned notifications")
    parser.add_argument("--reconcile-every", type=float, default=0.0, metavar="SECONDS",
                        help="rescan the environment this often and report what it repaired (default: never)")
    parser.add_argument("--report-every", type=float, default=ListenOptions.report_every, metavar="SECONDS",
                        help="log what was applied this often, when anything was "
                             f"(default {ListenOptions.report_every:.0f}; 0: never)")
    parser.add_argument("--max-notifications", type=int, default=0, metavar="N",
                        help=f"stop once N notifications were applied (exit status {EXIT_START_AGAIN}: for the "
                             "manager to start it again, with the memory of a new process; default: never)")
    parser.add_argument("--log-level", default="INFO", choices=LOG_LEVELS)
    parser.set_defaults(run=run)


def run(app, args) -> int:
    stop = until_signalled(args.log_level)
    options = ListenOptions(batch_size=args.batch_size, batch_timeout=args.batch_timeout, versioned=args.versioned,
                            reconcile_every=args.reconcile_every, report_every=args.report_every,
                            max_notifications=args.max_notifications)
    console = Console(stderr=True)

    def reconciled(repair) -> None:
        console.print(f"reconciliation scan {repair.scan_id}: {repair.total} repairs", highlight=False)

    stats = listen(app, args.env, stop, options, on_reconciled=reconciled)
    console.print(f"{args.env}: {stats['notifications']} notifications applied in {stats['batches']} batches "
                  f"({stats['rejected']} rejected, {stats['stale']} stale)", highlight=False)
    if 0 < args.max_notifications <= stats["notifications"]:
        console.print(f"{args.env}: stopped after --max-notifications {args.max_notifications}; start it again "
                      "(the manager does): what it had not acknowledged comes again", highlight=False)
        return EXIT_START_AGAIN
    return 0


def main(argv: list[str] | None = None) -> int:
    """``calipso listen`` on its own: how ``calipso manager`` starts each listener."""
    from calipso_core.context import Calipso

    warnings.filterwarnings("ignore", message=".*[Ee]ventlet.*")
    parser = argparse.ArgumentParser(prog="calipso")
    register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["listen", *(sys.argv[1:] if argv is None else argv)])
    app = Calipso()
    try:
        return run(app, args)
    except CalipsoError as error:
        Console(stderr=True, soft_wrap=True).print(f"error: {error}", highlight=False, markup=False)
        return 1
    finally:
        app.close()


if __name__ == "__main__":
    sys.exit(main())
