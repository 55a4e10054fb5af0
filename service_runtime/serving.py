"""Serving an ASGI app with uvicorn, without its idle ticking.

uvicorn's `Server.main_loop` wakes every 0.1 s to see whether it should stop and to refresh the
Date header once a second: wake-ups at rest, in every process, for nothing. This server adds the
Date header as each response starts (formatted at most once a second, when a response needs it)
and sleeps until a stop signal, which wakes it at once; the slow tick only looks at uvicorn's
own limits.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from email.utils import formatdate
from types import FrameType
from typing import Any

import uvicorn

from service_runtime.heap import settle_after_startup

TICK_SECONDS = 60.0
UVICORN_TICKS_PER_SECOND = 10  # the counter `on_tick` expects


class DateHeader:
    """Pure ASGI: the HTTP Date header on every response, as uvicorn would send it."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self._second, self._value = -1, b""

    def now(self) -> bytes:
        second = int(time.time())
        if second != self._second:
            self._second, self._value = second, formatdate(second, usegmt=True).encode()
        return self._value

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_dated(message: dict) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [(b"date", self.now()), *message.get("headers", ())]
            await send(message)

        await self.app(scope, receive, send_dated)


class QuietServer(uvicorn.Server):
    def __init__(self, config: uvicorn.Config) -> None:
        config.date_header = False  # `DateHeader` sends it, without a tick
        if not isinstance(config.app, DateHeader):
            config.app = DateHeader(config.app)
        super().__init__(config)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop_signalled: asyncio.Event | None = None

    async def main_loop(self) -> None:
        self._loop, self._stop_signalled = asyncio.get_running_loop(), asyncio.Event()
        counter = 0
        while not await self.on_tick(counter):
            counter = (counter + UVICORN_TICKS_PER_SECOND) % 864000
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._stop_signalled.wait(), timeout=TICK_SECONDS)

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        super().handle_exit(sig, frame)
        if self._loop is not None and self._stop_signalled is not None:
            self._loop.call_soon_threadsafe(self._stop_signalled.set)


def serve(app: Any, host: str, port: int, **options: Any) -> None:
    """`uvicorn.run(app, host=..., port=..., **options)` on a `QuietServer`, the app's startup heap
    settled first (`service_runtime/heap.py`)."""
    settle_after_startup()
    QuietServer(uvicorn.Config(app, host=host, port=port, **options)).run()
