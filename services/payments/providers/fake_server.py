"""What the provider fakes share: a threaded local HTTP server, and webhook delivery that retries
(as the real providers do) until the platform answers."""

from __future__ import annotations

import contextlib
import json
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx


class QuietHandler(BaseHTTPRequestHandler):
    """A request handler that answers JSON (or raw bytes) and logs nothing."""

    def answer(self, status: int, body: Any, content_type: str = "application/json") -> None:
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        try:
            self.send_response(status)
            self.send_header("content-type", content_type)
            self.send_header("content-length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (the timeout case)

    def log_message(self, *args: Any) -> None:
        pass


class FakeServer:
    """A fake's server: `serve` it with a handler, then `url` and `stop`."""

    _server: ThreadingHTTPServer | None = None

    def serve(self, handler: type[BaseHTTPRequestHandler], port: int, name: str) -> None:
        self._server = serve(handler, port, name)

    @property
    def url(self) -> str:
        return local_url(self._server)

    def stop(self) -> None:
        shut(self._server)


# How often the server's loop looks for a stop at rest (the standard library's 0.5 s woke the
# payments process four times a second for its two fakes); `shut` wakes it at once anyway.
STOP_CHECK_SECONDS = 30.0


def serve(handler: type[BaseHTTPRequestHandler], port: int, name: str) -> ThreadingHTTPServer:
    server = ThreadingHTTPServer(("127.0.0.1", port), handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": STOP_CHECK_SECONDS}, daemon=True,
                     name=name).start()
    return server


def local_url(server: ThreadingHTTPServer | None) -> str:
    assert server is not None, "start() first"
    return f"http://127.0.0.1:{server.server_address[1]}"


def shut(server: ThreadingHTTPServer | None) -> None:
    """Stop the server now: its loop is woken by connections until it has seen the stop."""
    if server is None:
        return
    stopping = threading.Thread(target=server.shutdown, daemon=True)
    stopping.start()
    while stopping.is_alive():
        with contextlib.suppress(OSError):
            socket.create_connection(server.server_address[:2], timeout=1).close()
        stopping.join(0.05)
    server.server_close()


def post_webhook(url: str | None, body: str | bytes, headers: dict[str, str], attempts: int = 1) -> int:
    """POST until a 2xx (or a 400/401, which a retry would not change); the last status."""
    status = 0
    for _ in range(attempts):
        if url:
            try:
                status = httpx.post(url, content=body, headers=headers, timeout=10).status_code
                if status < 300 or status in (400, 401):
                    return status
            except httpx.HTTPError:
                pass
        time.sleep(0.25)
    return status
