"""Serving an ASGI app with uvicorn, without its idle ticking.

uvicorn's `Server.main_loop` wakes every 0.1 s to see whether it should stop (and to refresh
the Date header once a second): ten wake-ups a second per process with nothing to do. This
server ticks once a second, the rate at which the header changes anyway, and a stop signal
wakes it at once, so stopping is no slower.
"""

from __future__ import annotations

import asyncio
import contextlib
from types import FrameType
from typing import Any

import uvicorn

from service_runtime.heap import settle_after_startup

TICK_SECONDS = 1.0
UVICORN_TICKS_PER_SECOND = 10  # `on_tick` refreshes the Date header when its counter is a multiple


class QuietServer(uvicorn.Server):
    def __init__(self, config: uvicorn.Config) -> None:
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
