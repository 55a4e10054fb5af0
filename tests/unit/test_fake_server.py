"""The payment providers' local fakes look for a stop only every 30 s at rest, yet stop at once."""

from __future__ import annotations

import threading
import time
from http.server import BaseHTTPRequestHandler

import httpx

from services.payments.providers import fake_server


class Hello(BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802 - the standard library's name
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b"hello")

    def log_message(self, *args):
        pass


def test_a_fake_answers_and_stops_without_waiting_for_its_stop_check():
    assert fake_server.STOP_CHECK_SECONDS >= 10
    server = fake_server.serve(Hello, 0, "fake-test")
    url = fake_server.local_url(server)
    assert httpx.get(url).text == "hello"
    time.sleep(0.3)  # its loop is now in a 30 s wait
    asked = time.monotonic()
    fake_server.shut(server)
    assert time.monotonic() - asked < 3
    assert not any(t.name == "fake-test" and t.is_alive() for t in threading.enumerate())
