"""Helpers for tests that run the platform for real: processes, tokens, topics, waiting."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Callable

import httpx

from service_runtime.auth import issue_token

JWT_SECRET = "test-suite-secret-that-is-long-enough-for-hs256"
CARRIER_SECRET = "test-suite-carrier-webhook-secret"
ISSUER = "kongfumall"
ROOT = Path(__file__).resolve().parents[1]


def token(subject: str, *roles: str) -> str:
    return issue_token(JWT_SECRET, subject, list(roles), issuer=ISSUER)


def auth(subject: str, *roles: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token(subject, *roles)}"}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(condition: Callable[[], Any], timeout: float = 30.0, interval: float = 0.2, what: str = "") -> Any:
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = condition()
        if last:
            return last
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what or condition}; last value {last!r}")


def stack_env(namespace: str, var_dir: Path) -> dict[str, str]:
    return {
        "KONGFU_MODE": "stack",
        "KONGFU_NAMESPACE": namespace,
        "KONGFU_VAR_DIR": str(var_dir),
        "KONGFU_JWT_SECRET": JWT_SECRET,
        "KONGFU_CARRIER_WEBHOOK_SECRET": CARRIER_SECRET,
        "KONGFU_PG_DSN": os.environ.get("KONGFU_PG_DSN", "postgresql://kongfu:kongfu@127.0.0.1:15432/kongfu"),
        "KONGFU_KAFKA_BOOTSTRAP": os.environ.get("KONGFU_KAFKA_BOOTSTRAP", "127.0.0.1:19092"),
    }


class ServiceProcess:
    """One `kongfu` process (serve or run), started and stopped like an operator would."""

    def __init__(self, args: list[str], env: dict[str, str], log_path: Path) -> None:
        self.port = free_port()
        self.args = args + ["--port", str(self.port)]
        self.env = {**os.environ, **env}
        self.log_path = log_path
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 60.0) -> "ServiceProcess":
        self.spawn()
        return self.wait_ready(timeout)

    def spawn(self) -> None:
        log = open(self.log_path, "ab")
        self.proc = subprocess.Popen([sys.executable, "-m", "kongfu.cli", *self.args], env=self.env,
                                     stdout=log, stderr=subprocess.STDOUT, cwd=ROOT)

    def wait_ready(self, timeout: float = 90.0) -> "ServiceProcess":
        def ready() -> bool:
            if self.proc.poll() is not None:
                raise AssertionError(f"{self.args} exited: {self.log_tail()}")
            try:
                return httpx.get(f"{self.url}/readyz", timeout=2).status_code == 200
            except httpx.HTTPError:
                return False

        wait_until(ready, timeout=timeout, what=f"{self.args} to be ready")
        return self

    def kill(self, sig: int = signal.SIGKILL) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(sig)
            self.proc.wait(timeout=30)

    def stop(self) -> None:
        self.kill(signal.SIGTERM)

    def log_tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except FileNotFoundError:
            return ""


def read_topic(bootstrap: str, topic: str, timeout: float = 5.0) -> list[Any]:
    """Every record of a topic, from the beginning to its current end."""
    from aiokafka import AIOKafkaConsumer
    from aiokafka.structs import TopicPartition

    async def read() -> list[Any]:
        consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False,
                                    isolation_level="read_committed")
        await consumer.start()
        try:
            partitions = [TopicPartition(topic, p) for p in (consumer.partitions_for_topic(topic) or [])]
            if not partitions:
                await consumer._client.force_metadata_update()  # noqa: SLF001
                partitions = [TopicPartition(topic, p) for p in (consumer.partitions_for_topic(topic) or [])]
            consumer.assign(partitions)
            await consumer.seek_to_beginning(*partitions)
            ends = await consumer.end_offsets(partitions)
            records = []
            deadline = time.monotonic() + timeout
            while any([await consumer.position(tp) < ends[tp] for tp in partitions]):
                if time.monotonic() > deadline:
                    raise AssertionError(f"could not read {topic} to its end")
                batch = await consumer.getmany(timeout_ms=500)
                for messages in batch.values():
                    records.extend(messages)
            return records
        finally:
            await consumer.stop()

    return asyncio.run(read())


def publish_raw(bootstrap: str, topic: str, key: bytes | None, value: bytes) -> None:
    from aiokafka import AIOKafkaProducer

    async def send() -> None:
        producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", enable_idempotence=True)
        await producer.start()
        try:
            await producer.send_and_wait(topic, value, key=key)
        finally:
            await producer.stop()

    asyncio.run(send())
