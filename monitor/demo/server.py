"""A threaded HTTP server on 127.0.0.1 for tests, benchmarks and the demo: the start/stop plumbing
that LocalSite (a blog) and ApiStandIn (the Written Questions API) share."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Self


class LocalServer:
    """Serve in a daemon thread; subclasses say how requests are handled in `handler_class`."""

    # TCP_NODELAY, as nginx and Apache httpd set it: http.server writes a response's headers and
    # body apart, and with Nagle's algorithm a keep-alive client would wait up to 40 ms (its
    # delayed ACK) for every body.
    nodelay: bool = True

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self.host, self.port = host, port
        self.requests: list[tuple[str, str, int]] = []  # (method, path with query, status)
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    def handler_class(self) -> type[BaseHTTPRequestHandler]:
        """The request handler class bound to this server's state."""
        raise NotImplementedError

    @property
    def url(self) -> str:
        """Base URL, e.g. http://127.0.0.1:54321 (only once started)."""
        if self._server is None:
            raise RuntimeError(f"{type(self).__name__} is not started")
        return f"http://{self.host}:{self.port}"

    def start(self) -> Self:
        """Bind (port 0 picks a free port) and serve in a daemon thread."""
        if self._server is None:
            handler = self.handler_class()
            handler.disable_nagle_algorithm = self.nodelay
            self._server = ThreadingHTTPServer((self.host, self.port), handler)
            self.port = self._server.server_address[1]
            self._thread = threading.Thread(
                target=self._server.serve_forever,
                kwargs={"poll_interval": 0.05},
                name=f"{type(self).__name__}:{self.port}",
                daemon=True,
            )
            self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and close the socket."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            if self._thread is not None:
                self._thread.join(timeout=5)
            self._server, self._thread = None, None

    def __enter__(self) -> Self:
        """Start serving for the duration of a with block."""
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        """Stop serving at the end of a with block."""
        self.stop()
