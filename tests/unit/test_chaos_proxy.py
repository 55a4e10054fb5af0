"""The chaos run's front proxy: round robin over API upstreams, skipping one that refuses, and
losing a command's answer only after the server has handled the command."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest

from kongfu.chaos_faults import FrontProxy, lose_answers
from kongfu.local import free_port


def upstream(name: str, handled: list[str]) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _answer(self) -> None:
            self.rfile.read(int(self.headers.get("content-length", 0)))
            handled.append(f"{self.command} {name}")
            body = name.encode()
            self.send_response(200)
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        do_GET = do_POST = _answer

        def log_message(self, *args) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


@pytest.fixture
def two_upstreams():
    handled: list[str] = []
    servers = [upstream("a", handled), upstream("b", handled)]
    proxy = FrontProxy(servers[0].server_address[1]).start()
    proxy.upstreams.append(servers[1].server_address[1])
    yield proxy, handled
    proxy.stop()
    for server in servers:
        server.shutdown()


def test_new_connections_take_turns_and_a_refusing_upstream_is_skipped(two_upstreams):
    proxy, _ = two_upstreams
    answers = [httpx.get(proxy.url).text for _ in range(4)]  # a connection per request
    assert sorted(answers) == ["a", "a", "b", "b"]
    proxy.upstreams.insert(1, free_port())  # nobody listens there
    assert {httpx.get(proxy.url).text for _ in range(6)} == {"a", "b"}


def test_a_lost_answer_reaches_the_server_but_not_the_caller_and_the_retry_gets_through(two_upstreams):
    proxy, handled = two_upstreams
    with httpx.Client() as client:
        assert client.get(proxy.url).status_code == 200
        proxy.lose_answers(1)
        with pytest.raises(httpx.TransportError):
            client.post(proxy.url, json={"n": 1})
        assert client.post(proxy.url, json={"n": 1}).status_code == 200  # the retry
    assert [h.split()[0] for h in handled] == ["GET", "POST", "POST"]  # the lost one was handled
    assert proxy.lost == 1


def test_waiting_for_lost_answers_gives_up_when_no_command_comes(two_upstreams):
    proxy, _ = two_upstreams
    with pytest.raises(AssertionError, match="0 of 1 answers lost"):
        lose_answers(proxy, 1, timeout=0.5)
    assert proxy.to_lose == 0
