"""``calipso scan ENV``: discover an environment, with a progress bar and a summary."""

from __future__ import annotations

from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from calipso_core.scan.controller import PHASES, Scan, ScanSummary


def register(commands) -> None:
    parser = commands.add_parser("scan", help="discover an environment's objects, links and cliques")
    parser.add_argument("env", help="environment name")
    parser.add_argument("--only", choices=PHASES, help="run one phase only")
    parser.add_argument("--object", dest="object_id", metavar="ID", help="rescan the subtree of one object")
    parser.add_argument("--clear", action="store_true", help="delete the environment's data first")
    parser.add_argument("--concurrency", type=int, default=32, help="parallel fetches per source (default 32)")
    parser.set_defaults(run=run)


def run(app, args) -> int:
    summary = scan_with_progress(app, args.env, only=args.only, object_id=args.object_id, clear=args.clear,
                                 concurrency=args.concurrency)
    return 0 if summary.status == "completed" else 2


def scan_with_progress(app, env: str, **options) -> ScanSummary:
    """Scan with a progress bar per phase on stderr, then print the summary."""
    console = Console(stderr=True)
    with Progress(TextColumn("{task.description:<10}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  console=console, transient=False) as bar:
        tasks = {phase: bar.add_task(phase, total=None, visible=False) for phase in PHASES}

        def progress(phase: str, done: int, total: int) -> None:
            bar.update(tasks[phase], completed=done, total=total, visible=True)

        summary = Scan(app, env, progress=progress, **options).run()
    print_summary(Console(), summary)
    return summary


def print_summary(console: Console, summary: ScanSummary) -> None:
    table = Table(title=f"scan {summary.scan_id} of {summary.environment}: {summary.status}")
    table.add_column("kind")
    table.add_column("type")
    table.add_column("count", justify="right")
    for kind, counts in (("objects", summary.objects), ("links", summary.links)):
        for name, count in sorted(counts.items()):
            table.add_row(kind, name, f"{count:,}")
    table.add_row("cliques", "", f"{summary.cliques:,}")
    table.add_row("removed", "objects no longer seen", f"{summary.removed:,}")
    console.print(table)
    timing = ", ".join(f"{phase} {seconds:.1f} s" for phase, seconds in summary.durations.items())
    console.print(f"duration: {timing or '-'}; errors: {len(summary.errors)}", highlight=False)
    for error in summary.errors[:20]:
        console.print(f"  [red]error[/] {escape(error)}", highlight=False)
    if len(summary.errors) > 20:
        console.print(f"  ... and {len(summary.errors) - 20} more (see 'messages')", highlight=False)
