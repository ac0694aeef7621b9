"""``make bench``: run every benchmark (or those named) and print figures and ratios.

Benchmarks are modules ``bench/bench_*.py`` with a ``run(db_url)`` function
returning the lines to print. They get a throwaway database on an embedded PostgreSQL
(or under ``CALIPSO_DATABASE_URL`` when set).
"""

from __future__ import annotations

import importlib.util
import sys
import tempfile
import time
import warnings
from pathlib import Path

warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR.*")
warnings.filterwarnings("ignore", message=".*[Ee]ventlet.*")

from calipso_core import db  # noqa: E402

HERE = Path(__file__).resolve().parent


def load(path: Path):
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def main(names: list[str]) -> int:
    paths = sorted(HERE.glob("bench_*.py"))
    if names:
        paths = [p for p in paths if p.stem.removeprefix("bench_") in names]
    with tempfile.TemporaryDirectory(prefix="calipso-bench-") as tmp:
        Path(tmp).chmod(0o755)  # the embedded server runs as its own user
        url = db.embedded_server_url(Path(tmp) / "pgdata", database="calipso_bench")
        for path in paths:
            started = time.perf_counter()
            print(f"== {path.stem.removeprefix('bench_')}", flush=True)
            for line in load(path).run(url):
                print(f"   {line}", flush=True)
            print(f"   ({time.perf_counter() - started:.1f} s)", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
