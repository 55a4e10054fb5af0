"""The bench's load: complete lifecycles from a pool of threads, each thread with its own
keep-alive HTTP client, and every answer the platform gave counted by service and status."""

from __future__ import annotations

import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import httpx

from kongfu.demo import Lifecycle
from service_runtime.auth import issue_token
from service_runtime.problems import MESSAGES

CONCURRENT = MESSAGES["concurrent"][0]  # the detail of a 409 after the save's retries all lost


class Driver:
    """Lifecycles from a pool of threads, each with its own keep-alive HTTP client."""

    def __init__(self, urls: dict[str, str], jwt_secret: str, carrier_secret: str, issuer: str) -> None:
        from services.logistics.carriers import FakeCarrier

        self.urls, self.local = urls, threading.local()
        self.token_for = lambda sub, role: issue_token(jwt_secret, sub, [role], issuer=issuer)
        self.webhook = FakeCarrier(carrier_secret).webhook
        self.clients: list[httpx.Client] = []
        self.answers: Counter[tuple[str, int]] = Counter()  # (service, status) -> answers; 0: no connection
        self.concurrency_conflicts: Counter[str] = Counter()  # service -> 409s that were lost races
        self._counting = threading.Lock()

    def observe(self, service: str, status: int, response: httpx.Response | None = None) -> None:
        # A 409 is mostly the platform's word for "not in that state (yet)", which the lifecycle
        # polls through; a lost race between two writers answers with its own detail.
        lost_race = status == 409 and response is not None and CONCURRENT in response.text
        with self._counting:
            self.answers[(service, status)] += 1
            if lost_race:
                self.concurrency_conflicts[service] += 1

    def answers_by_status(self) -> dict[int, int]:
        by_status: Counter[int] = Counter()
        for (_, status), count in self.answers.items():
            by_status[status] += count
        return dict(by_status)

    def conflicts_by_service(self) -> dict[str, int]:
        """Every 409, by service: states the lifecycle waits through, and lost races."""
        return {service: count for (service, status), count in sorted(self.answers.items()) if status == 409}

    def lost_races_by_service(self) -> dict[str, int]:
        """409s because two writers raced for one aggregate (none expected at concurrency 20)."""
        return dict(sorted(self.concurrency_conflicts.items()))

    def client(self) -> httpx.Client:
        if not hasattr(self.local, "client"):
            self.local.client = httpx.Client(timeout=30)
            self.clients.append(self.local.client)
        return self.local.client

    def one(self, _: int = 0) -> str:
        trip = Lifecycle(self.urls, self.token_for, self.webhook, client=self.client(), patience=180,
                         observe=self.observe)
        result = trip.full_journey()
        trip.timeline_until(result["order_id"], "claim_decided")
        return result["order_id"]

    def run(self, lifecycles: int, concurrency: int) -> float:
        started = time.perf_counter()
        with ThreadPoolExecutor(max_workers=concurrency) as pool:
            list(pool.map(self.one, range(lifecycles)))
        return time.perf_counter() - started

    def close(self) -> None:
        for client in self.clients:
            client.close()
