"""Running KongfuMall processes locally: used by the tests and by `make bench`."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Callable

import httpx

ROOT = Path(__file__).resolve().parents[1]
SERVICES = ("orders", "purchasing", "warehouse", "logistics", "claims", "fraud", "payments", "notifications")


_HANDED_OUT: set[int] = set()


def free_port() -> int:
    """A port nothing listens on, never one this process handed out before: the kernel may offer
    the same free port twice before the first taker binds it, and then two services started
    together would answer on one address."""
    while True:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        if port not in _HANDED_OUT:
            _HANDED_OUT.add(port)
            return port


def wait_until(condition: Callable[[], Any], timeout: float = 60.0, interval: float = 0.2, what: str = "") -> Any:
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = condition()
        if last:
            return last
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what or condition}; last value {last!r}")


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

        try:
            wait_until(ready, timeout=timeout, what=f"{self.args} to be ready")
        except AssertionError as exc:  # with what /readyz said last, which names the cause
            raise AssertionError(f"{exc}; /readyz: {self._readiness()}") from None
        return self

    def _readiness(self) -> str:
        try:
            return httpx.get(f"{self.url}/readyz", timeout=2).text[:300]
        except httpx.HTTPError as exc:
            return f"no answer ({exc.__class__.__name__})"

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


def app_name(service: str, args: list[str]) -> str:
    """The PostgreSQL application_name of a service process (libpq reads PGAPPNAME), so that the
    bench can tell whose backend spends what: kongfu-<service>-<roles>."""
    roles = args[args.index("--roles") + 1] if "--roles" in args else "all"
    return f"kongfu-{service}-{roles}"


def start_platform(args: list[str], env: dict[str, str], log_dir: Path) -> tuple[dict[str, str], list["ServiceProcess"]]:
    """Each service in its own process, started together, then waited for."""
    processes = [ServiceProcess(["serve", s, *args], {**env, "PGAPPNAME": app_name(s, args)}, log_dir / f"{s}.log")
                 for s in SERVICES]
    try:
        for process in processes:
            process.spawn()
        for process in processes:
            process.wait_ready()
    except BaseException:  # none left running behind a failed start (each holds database connections)
        for process in processes:
            process.stop()
        raise
    return {s: p.url for s, p in zip(SERVICES, processes)}, processes
