"""An ASGI app served by uvicorn on a free loopback port, in a background thread."""

from __future__ import annotations

import socket
import threading
import time

import uvicorn

from calipso_core.errors import CalipsoError

START_TIMEOUT_S = 15.0
STOP_TIMEOUT_S = 10.0


class ThreadedServer:
    """``start()`` returns once the server accepts connections; ``stop()`` waits for it.
    ``options`` are uvicorn's (TLS files, log level); its errors are ``error``'s."""

    error: type[CalipsoError] = CalipsoError

    def __init__(self, app, name: str, start_timeout: float = START_TIMEOUT_S, **options):
        self.app, self.name, self.start_timeout = app, name, start_timeout
        self.options = {"log_level": "warning", "access_log": False, "lifespan": "off", "ws": "none",
                        "timeout_graceful_shutdown": 2, "timeout_keep_alive": 30, **options}
        self.port = 0
        self._thread: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> ThreadedServer:
        if self._thread is not None:
            return self
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._socket.bind(("127.0.0.1", 0))
        self.port = self._socket.getsockname()[1]
        self._server = uvicorn.Server(uvicorn.Config(self.app, **self.options))
        self._thread = threading.Thread(target=self._server.run, kwargs={"sockets": [self._socket]},
                                        name=f"{self.name}-{self.port}", daemon=True)
        self._thread.start()
        deadline = time.monotonic() + self.start_timeout
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                self.stop()
                raise self.error(f"{self.name} did not start on 127.0.0.1:{self.port}")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        if self._thread is None:
            return
        self._server.should_exit = True
        self._thread.join(STOP_TIMEOUT_S)
        alive = self._thread.is_alive()
        self._socket.close()
        self._thread = None
        if alive:
            raise self.error(f"{self.name} on 127.0.0.1:{self.port} did not stop within {STOP_TIMEOUT_S} s")

    def __enter__(self) -> ThreadedServer:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
