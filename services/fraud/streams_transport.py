"""faust's Kafka transport with a quiet consumer thread.

faust builds its aiokafka consumer without `consumer_timeout_ms`, so that consumer's fetcher looks
at every assigned partition (sources, re-keying topics and changelogs) five times a second at rest,
about a quarter of the fraud process's CPU with nothing to do. The fetcher wakes on every event it waits
for (a fetch answered, records taken, a seek, a new assignment, a metadata refresh); the timeout is
only its safety tick, so it is set to the services' own (`service_runtime/kafka_log.py`).
"""

from __future__ import annotations

from typing import Any

from faust.transport.drivers import aiokafka as faust_aiokafka

from service_runtime.fetch_pace import QUIET_FETCH_WAIT_MS


class QuietConsumerThread(faust_aiokafka.AIOKafkaConsumerThread):
    def _create_worker_consumer(self, transport: Any) -> Any:
        consumer = super()._create_worker_consumer(transport)
        consumer._consumer_timeout = QUIET_FETCH_WAIT_MS / 1000  # noqa: SLF001 - faust passes no such setting
        return consumer


class QuietConsumer(faust_aiokafka.Consumer):
    def _new_consumer_thread(self) -> QuietConsumerThread:
        return QuietConsumerThread(self, loop=self.loop, beacon=self.beacon)


class QuietTransport(faust_aiokafka.Transport):
    Consumer = QuietConsumer


def use_quiet_transport(app: Any) -> None:
    """Before the app starts: its consumer on `QuietTransport`, everything else as faust's."""
    app.transport = QuietTransport(app.conf.broker_consumer, app)
