"""The HTTP server ticks slowly at rest, yet a stop signal stops it at once and every response
carries the current Date."""

from __future__ import annotations

import email.utils
import http.client
import signal
import socket
import threading
import time

import uvicorn

from service_runtime import serving


async def app(scope, receive, send):
    if scope["type"] != "http":
        return
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/plain")]})
    await send({"type": "http.response.body", "body": b"ok"})


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_a_stop_signal_stops_the_server_without_waiting_for_its_tick(monkeypatch):
    monkeypatch.setattr(serving, "TICK_SECONDS", 60.0)
    port = _free_port()
    server = serving.QuietServer(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)  # not the main thread: no handlers installed
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    conn.request("GET", "/")
    answer = conn.getresponse()
    assert (answer.status, answer.read()) == (200, b"ok")
    first_date = answer.getheader("date")
    assert first_date and answer.getheader("date") == email.utils.formatdate(
        email.utils.parsedate_to_datetime(first_date).timestamp(), usegmt=True)
    time.sleep(1.2)  # the next whole second, well inside the 60 s tick
    conn.request("GET", "/")
    answer = conn.getresponse()
    answer.read()
    later = email.utils.parsedate_to_datetime(answer.getheader("date"))
    assert later > email.utils.parsedate_to_datetime(first_date), "the Date is current without a tick"
    assert abs(later.timestamp() - time.time()) < 2
    assert len(answer.headers.get_all("date")) == 1
    conn.close()

    asked = time.monotonic()
    server.handle_exit(signal.SIGTERM, None)  # what the signal handler calls
    thread.join(timeout=30)
    assert not thread.is_alive()
    assert time.monotonic() - asked < 10, "stopped by the signal, not by the 60 s tick"
