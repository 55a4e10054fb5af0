"""The faults of `kongfu chaos` that need more than a signal: a front proxy per service (round
robin over API replicas, and able to lose a command's answer after the server committed it), a
second API replica killed behind it, and a second worker in a service's consumer group killed.
"""

from __future__ import annotations

import asyncio
import signal
import threading
import time
from pathlib import Path

from kongfu.local import ServiceProcess, app_name, free_port


class FrontProxy:
    """What a load balancer in front of one service does, over plain TCP: each new connection goes
    to the next API upstream in turn, and to the one after it when an upstream refuses (a passive
    health check). Armed with `lose_answers(n)`, it forwards the next n POST requests, waits for
    the server's answer (the command is committed by then) and drops the connection instead of
    passing the answer on: the driver must retry with the same Idempotency-Key, or check state."""

    def __init__(self, upstream_port: int) -> None:
        self.upstreams = [upstream_port]
        self.port = free_port()
        self.turn = 0
        self.to_lose = 0
        self.lost = 0
        self.lock = threading.Lock()
        self.loop = asyncio.new_event_loop()
        self.ready = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> "FrontProxy":
        self.thread.start()
        self.ready.wait(10)
        return self

    def stop(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)

    def lose_answers(self, count: int) -> None:
        with self.lock:
            self.to_lose += count

    def _take_loss(self) -> bool:
        with self.lock:
            if self.to_lose <= 0:
                return False
            self.to_lose -= 1
            return True

    def _serve(self) -> None:
        asyncio.set_event_loop(self.loop)
        self.loop.run_until_complete(asyncio.start_server(self._handle, "127.0.0.1", self.port))
        self.ready.set()
        self.loop.run_forever()

    async def _connect(self):
        for _ in range(len(self.upstreams)):
            with self.lock:
                port = self.upstreams[self.turn % len(self.upstreams)]
                self.turn += 1
            try:
                return await asyncio.open_connection("127.0.0.1", port)
            except OSError:
                continue  # refused: the next upstream, like a balancer's next-upstream on connect errors
        raise ConnectionRefusedError("no upstream accepts connections")

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            upstream_reader, upstream_writer = await self._connect()
        except OSError:
            writer.close()
            return
        losing = asyncio.Event()

        async def requests() -> None:
            while data := await reader.read(65536):
                if data.startswith(b"POST ") and self._take_loss():
                    losing.set()
                upstream_writer.write(data)
                await upstream_writer.drain()

        async def answers() -> None:
            while data := await upstream_reader.read(65536):
                if losing.is_set():
                    with self.lock:
                        self.lost += 1  # the server answered, so it committed: the answer goes nowhere
                    return
                writer.write(data)
                await writer.drain()

        tasks = [asyncio.ensure_future(requests()), asyncio.ensure_future(answers())]
        try:
            await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        except Exception:  # noqa: BLE001 - a broken connection is what the driver must live with
            pass
        finally:
            for task in tasks:
                task.cancel()
            for w in (writer, upstream_writer):
                w.close()


def lose_answers(proxy: FrontProxy, count: int, timeout: float = 150.0) -> None:
    """Arm the proxy and wait until that many committed commands have lost their answer."""
    target = proxy.lost + count
    proxy.lose_answers(count)
    deadline = time.monotonic() + timeout
    while proxy.lost < target:
        if time.monotonic() > deadline:
            with proxy.lock:
                proxy.to_lose = 0
            raise AssertionError(f"only {count - (target - proxy.lost)} of {count} answers lost within {timeout:.0f} s")
        time.sleep(0.2)


def extra_process(service: str, roles: str, env: dict[str, str], log_dir: Path) -> ServiceProcess:
    """Spawned when the schedule is made (starting one takes a while here); its fault waits for it."""
    args = ["serve", service, "--mode", "stack", "--roles", roles]
    process = ServiceProcess(args, {**env, "PGAPPNAME": app_name(service, args)},
                             log_dir / f"{service}-{roles}-extra.log")
    process.spawn()
    return process


def ready(process: ServiceProcess, timeout: float = 180) -> None:
    """Wait for a spawned extra; one that exited meanwhile (it may have started while the broker
    or the database was down for another fault) is started again."""
    if process.proc.poll() is not None:
        process.spawn()
    process.wait_ready(timeout=timeout)


def second_worker_killed(worker: ServiceProcess, under_load: float) -> None:
    """A second worker process in the service's consumer groups (they rebalanced when it joined)
    works under load and is SIGKILLed: its partitions go back to the first after the session
    times out, and the first resumes from the committed offsets (its inbox skips what it saw)."""
    ready(worker)
    time.sleep(under_load)
    worker.kill(signal.SIGKILL)


def api_replica_killed(replica: ServiceProcess, proxy: FrontProxy, under_load: float) -> None:
    """A second API process behind the service's proxy (round robin), SIGKILLed under load: the
    requests it held fail, the driver retries, and new connections land on the first."""
    ready(replica)
    with proxy.lock:
        proxy.upstreams.append(replica.port)
    time.sleep(under_load)
    replica.kill(signal.SIGKILL)
    time.sleep(2.0)  # the proxy skips the refusing replica meanwhile; then it leaves the rotation
    with proxy.lock:
        proxy.upstreams.remove(replica.port)
