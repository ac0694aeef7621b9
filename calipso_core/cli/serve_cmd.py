"""``calipso serve``: run the REST API with uvicorn (one process, or several workers
that each build their own context from the environment)."""

from __future__ import annotations

import os
import socket
from datetime import timedelta

from rich.console import Console

from calipso_core import db
from calipso_core.errors import ConfigError
from calipso_core.users import DEFAULT_TOKEN_CACHE

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8747
DEFAULT_TOKEN_LIFETIME = 86400
MAX_TOKEN_CACHE = 60
FACTORY = "calipso_core.api.app:app_factory"


def register(commands) -> None:
    parser = commands.add_parser("serve", help="serve the REST API")
    parser.add_argument("--host", default=DEFAULT_HOST, help=f"address to listen on (default {DEFAULT_HOST})")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, help=f"port (default {DEFAULT_PORT})")
    parser.add_argument("--workers", type=int, default=1, help="worker processes (default 1)")
    parser.add_argument("--token-lifetime", type=int, default=DEFAULT_TOKEN_LIFETIME, metavar="SECONDS",
                        help=f"how long a token stays valid (default {DEFAULT_TOKEN_LIFETIME})")
    parser.add_argument("--token-cache", type=float, default=DEFAULT_TOKEN_CACHE, metavar="SECONDS",
                        help="how long a worker takes a validated token as valid without asking the database: "
                             "a token revoked through another worker or 'calipso user remove' keeps working "
                             f"that long in this one; 0 asks every time (default {DEFAULT_TOKEN_CACHE:g})")
    parser.set_defaults(run=run)


def check_arguments(args) -> None:
    problems = []
    if args.workers < 1:
        problems.append(f"--workers {args.workers}: at least 1")
    if not 0 < args.port < 65536:
        problems.append(f"--port {args.port}: 1 to 65535")
    if args.token_lifetime < 1:
        problems.append(f"--token-lifetime {args.token_lifetime}: at least 1 second")
    if not 0 <= args.token_cache <= MAX_TOKEN_CACHE:
        problems.append(f"--token-cache {args.token_cache:g}: 0 to {MAX_TOKEN_CACHE} seconds")
    if problems:
        raise ConfigError("cannot serve the API:", problems)


def run(app, args) -> int:
    import uvicorn
    import uvicorn.supervisors

    from calipso_core.api.app import TOKEN_CACHE_VARIABLE, TOKEN_LIFETIME_VARIABLE, create_app

    check_arguments(args)
    db.require_current_schema(app.engine)
    Console(stderr=True).print(
        f"Calipso API on http://{args.host}:{args.port} ({args.workers} worker(s)); "
        f"OpenAPI document at /openapi.json", highlight=False)
    if args.workers == 1:
        uvicorn.run(create_app(app, timedelta(seconds=args.token_lifetime), token_cache=args.token_cache),
                    host=args.host, port=args.port, log_level="info")
        return 0
    # Each worker process builds its own context from these (the embedded database included).
    os.environ["CALIPSO_DATABASE_URL"] = app.engine.url.render_as_string(hide_password=False)
    os.environ[TOKEN_LIFETIME_VARIABLE] = str(args.token_lifetime)
    os.environ[TOKEN_CACHE_VARIABLE] = str(args.token_cache)
    config = uvicorn.Config(FACTORY, factory=True, workers=args.workers, host=args.host, port=args.port,
                            log_level="info", access_log=False)
    uvicorn.supervisors.Multiprocess(config, sockets=[tcp_socket(args)]).run()
    return 0


def tcp_socket(args) -> socket.socket:
    """The workers' shared listening socket, made as a TCP socket so that asyncio sets
    TCP_NODELAY on its connections (uvicorn's own, for several workers, does not: every
    response then waits ~40 ms for the client's delayed acknowledgement)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((args.host, args.port))
    sock.set_inheritable(True)
    return sock
