#!/usr/bin/env python3
"""Wait until a Kafka broker answers ApiVersions and lists itself in Metadata (stdlib only)."""

from __future__ import annotations

import socket
import struct
import sys
import time


def _request(sock: socket.socket, api_key: int, version: int, correlation: int, body: bytes) -> bytes:
    client = b"kongfu-ready"
    header = struct.pack(">hhih", api_key, version, correlation, len(client)) + client
    message = header + body
    sock.sendall(struct.pack(">i", len(message)) + message)
    size = struct.unpack(">i", _read(sock, 4))[0]
    response = _read(sock, size)
    if struct.unpack(">i", response[:4])[0] != correlation:
        raise ConnectionError("correlation id mismatch")
    return response[4:]


def _read(sock: socket.socket, n: int) -> bytes:
    data = b""
    while len(data) < n:
        chunk = sock.recv(n - len(data))
        if not chunk:
            raise ConnectionError("connection closed")
        data += chunk
    return data


def broker_ready(host: str, port: int) -> bool:
    with socket.create_connection((host, port), timeout=3) as sock:
        sock.settimeout(5)
        api_versions = _request(sock, 18, 0, 1, b"")
        if struct.unpack(">h", api_versions[:2])[0] != 0:
            return False
        # Metadata v4: all topics (null array), no auto-creation.
        metadata = _request(sock, 3, 4, 2, struct.pack(">i?", -1, False))
        _throttle, brokers = struct.unpack(">ii", metadata[:8])
        return brokers >= 1


def main() -> int:
    address = sys.argv[1] if len(sys.argv) > 1 else "127.0.0.1:19092"
    timeout = float(sys.argv[2]) if len(sys.argv) > 2 else 90.0
    host, port = address.rsplit(":", 1)
    deadline = time.monotonic() + timeout
    last_error = "no answer"
    while time.monotonic() < deadline:
        try:
            if broker_ready(host, int(port)):
                return 0
            last_error = "broker listed no brokers yet"
        except (OSError, ConnectionError, struct.error) as exc:
            last_error = str(exc)
        time.sleep(0.5)
    print(f"kafka at {address} not ready after {timeout:.0f}s: {last_error}", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
