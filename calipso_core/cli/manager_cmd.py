"""``calipso manager``: run and watch one listener per environment that listens."""

from __future__ import annotations

from pathlib import Path

from calipso_core.cli.listen_cmd import LOG_LEVELS, until_signalled
from calipso_core.manager import ListenerManager, ManagerOptions


def register(commands) -> None:
    parser = commands.add_parser("manager", help="run one listener per environment with listen and scanned set")
    parser.add_argument("--interval", type=float, default=ManagerOptions.interval,
                        help=f"seconds between looks at the environments (default {ManagerOptions.interval:g})")
    parser.add_argument("--reconcile-every", type=float, default=0.0, metavar="SECONDS",
                        help="have each listener rescan its environment this often (default: never)")
    parser.add_argument("--listener-max-notifications", type=int, default=ManagerOptions.listener_max_notifications,
                        metavar="N", help="start a listener again, as a new process, each time it applied N "
                        f"notifications (default {ManagerOptions.listener_max_notifications}; 0: never)")
    parser.add_argument("--log-dir", type=Path, help="write each listener's log to LOG_DIR/listen-ENV.log")
    parser.add_argument("--log-level", default="INFO", choices=LOG_LEVELS)
    parser.set_defaults(run=run)


def run(app, args) -> int:
    stop = until_signalled(args.log_level)
    options = ManagerOptions(interval=args.interval, reconcile_every=args.reconcile_every,
                             listener_max_notifications=args.listener_max_notifications, log_dir=args.log_dir)
    ListenerManager(app, options).run(stop)
    return 0
