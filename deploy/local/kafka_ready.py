#!/usr/bin/env python3
"""Wait until a Kafka broker serves requests (stdlib only, raw Kafka wire protocol).

Ready means: ApiVersions v0 answers with error_code 0, and a Metadata request (the newest
non-flexible version the broker supports, at most v8) lists at least one broker.

    kafka_ready.py [--timeout 90] [--log var/kafka/server.log] [--pid PID] [127.0.0.1:19092]

Exit 0 when ready; 1 on timeout or when --pid exits first (the tail of --log is printed).
"""

from __future__ import annotations

import argparse
import os
import socket
import struct
import sys
import time

API_METADATA = 3
API_VERSIONS = 18
CLIENT_ID = b"kongfu-ready"


class Reader:
    def __init__(self, data: bytes) -> None:
        self.data, self.pos = data, 0

    def take(self, fmt: str):
        size = struct.calcsize(fmt)
        if self.pos + size > len(self.data):
            raise ValueError("short response")
        values = struct.unpack_from(fmt, self.data, self.pos)
        self.pos += size
        return values[0] if len(values) == 1 else values

    def string(self) -> str | None:
        length = self.take(">h")
        if length < 0:
            return None
        raw = self.data[self.pos : self.pos + length]
        self.pos += length
        return raw.decode("utf-8", "replace")


def _read_exact(sock: socket.socket, n: int) -> bytes:
    buf = bytearray()
    while len(buf) < n:
        chunk = sock.recv(n - len(buf))
        if not chunk:
            raise ConnectionError("connection closed by broker")
        buf += chunk
    return bytes(buf)


def request(sock: socket.socket, api_key: int, version: int, correlation: int, body: bytes) -> Reader:
    # Request header v1: api_key, api_version, correlation_id, client_id (nullable string).
    header = struct.pack(">hhih", api_key, version, correlation, len(CLIENT_ID)) + CLIENT_ID
    message = header + body
    sock.sendall(struct.pack(">i", len(message)) + message)
    size = struct.unpack(">i", _read_exact(sock, 4))[0]
    response = Reader(_read_exact(sock, size))
    # Response header v0: correlation_id (non-flexible versions only are used here).
    if response.take(">i") != correlation:
        raise ConnectionError("correlation id mismatch")
    return response


def api_versions(sock: socket.socket) -> dict[int, tuple[int, int]]:
    r = request(sock, API_VERSIONS, 0, 1, b"")
    error = r.take(">h")
    if error != 0:
        raise ConnectionError(f"ApiVersions error_code {error}")
    ranges = {}
    for _ in range(r.take(">i")):
        key, low, high = r.take(">hhh")
        ranges[key] = (low, high)
    return ranges


def metadata(sock: socket.socket, version: int) -> tuple[list[tuple[int, str, int]], str | None, int]:
    body = struct.pack(">i", -1)  # topics: null = all topics (v1+)
    if version >= 4:
        body += struct.pack(">?", False)  # allow_auto_topic_creation
    if version >= 8:
        body += struct.pack(">??", False, False)  # include cluster/topic authorized operations
    r = request(sock, API_METADATA, version, 2, body)
    if version >= 3:
        r.take(">i")  # throttle_time_ms
    brokers = []
    for _ in range(r.take(">i")):
        node_id = r.take(">i")
        host = r.string() or ""
        port = r.take(">i")
        r.string()  # rack
        brokers.append((node_id, host, port))
    cluster_id = r.string() if version >= 2 else None
    controller_id = r.take(">i")
    return brokers, cluster_id, controller_id


def probe(host: str, port: int) -> str:
    """One attempt; returns a description of the cluster or raises."""
    with socket.create_connection((host, port), timeout=3) as sock:
        sock.settimeout(5)
        ranges = api_versions(sock)
        if API_METADATA not in ranges:
            raise ConnectionError("broker does not offer Metadata")
        low, high = ranges[API_METADATA]
        version = min(high, 8)  # the newest non-flexible version (v9+ use compact encodings)
        if version < max(low, 1):
            raise ConnectionError(f"no Metadata version in 1..8 (broker supports {low}..{high})")
        brokers, cluster_id, controller_id = metadata(sock, version)
        if not brokers:
            raise ConnectionError("Metadata lists no brokers yet")
        listed = ", ".join(f"{n}@{h}:{p}" for n, h, p in brokers)
        return f"brokers [{listed}], cluster {cluster_id}, controller {controller_id}"


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie (exited, not yet reaped) still answers kill(0).
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return True


def tail(paths: list[str], lines: int = 40) -> None:
    for path in paths:
        _tail(path, lines)


def _tail(path: str, lines: int) -> None:
    try:
        with open(path, errors="replace") as f:
            content = f.readlines()
    except OSError as exc:
        print(f"(no log: {exc})", file=sys.stderr)
        return
    if not content:
        return
    # The cause is usually an ERROR line (and the exception under it) well above the shutdown noise.
    errors = [i for i, line in enumerate(content) if " ERROR " in line or " FATAL " in line][:5]
    if errors:
        print(f"--- first errors in {path} ---", file=sys.stderr)
        for i in errors:
            sys.stderr.writelines(content[i : i + 2])
    print(f"--- last {min(lines, len(content))} lines of {path} ---", file=sys.stderr)
    sys.stderr.writelines(content[-lines:])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("address", nargs="?", default="127.0.0.1:19092")
    parser.add_argument("--timeout", type=float, default=90.0)
    parser.add_argument("--log", action="append", default=[], help="log to show if not ready (repeatable)")
    parser.add_argument("--pid", type=int, help="give up as soon as this process exits")
    parser.add_argument("--quiet", action="store_true")
    args = parser.parse_args()
    host, port = args.address.rsplit(":", 1)

    deadline = time.monotonic() + args.timeout
    last_error = "no answer"
    while True:
        try:
            description = probe(host, int(port))
            if args.pid is None or alive(args.pid):
                if not args.quiet:
                    print(f"kafka at {args.address}: {description}")
                return 0
        except (OSError, ValueError, struct.error) as exc:
            last_error = str(exc) or type(exc).__name__
        if args.pid is not None and not alive(args.pid):
            print(f"kafka process {args.pid} exited before {args.address} became ready", file=sys.stderr)
            tail(args.log)
            return 1
        if time.monotonic() >= deadline:
            print(f"kafka at {args.address} not ready after {args.timeout:.0f}s: {last_error}", file=sys.stderr)
            tail(args.log)
            return 1
        time.sleep(0.5)


if __name__ == "__main__":
    sys.exit(main())
