"""What the provider fakes share: a threaded local HTTP server, and webhook delivery that retries
(as the real providers do) until the platform answers."""

from __future__ import annotations

import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx


def serve(handler: type[BaseHTTPRequestHandler], port: int, name: str) -> ThreadingHTTPServer:
    server = ThreadingHTTPServer(("127.0.0.1", port), handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True, name=name).start()
    return server


def local_url(server: ThreadingHTTPServer | None) -> str:
    assert server is not None, "start() first"
    return f"http://127.0.0.1:{server.server_address[1]}"


def shut(server: ThreadingHTTPServer | None) -> None:
    if server is not None:
        server.shutdown()
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
