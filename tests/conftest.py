import os
import socket
import uuid
from pathlib import Path

import pytest

from kongfu.local import SERVICES, ServiceProcess, start_platform
from tests.support import stack_env

KAFKA = os.environ.get("KONGFU_KAFKA_BOOTSTRAP", "127.0.0.1:19092")
PG_DSN = os.environ.get("KONGFU_PG_DSN", "postgresql://kongfu:kongfu@127.0.0.1:15432/kongfu")


def _reachable(host_port: str) -> bool:
    host, port = host_port.rsplit(":", 1)
    try:
        with socket.create_connection((host, int(port)), timeout=2):
            return True
    except OSError:
        return False


@pytest.fixture(scope="session")
def stack() -> dict[str, str]:
    """The local Kafka broker and PostgreSQL; `make test` starts them. Missing is a failure."""
    pg = PG_DSN.split("@", 1)[1].split("/", 1)[0]
    down = [name for name, addr in (("Kafka", KAFKA), ("PostgreSQL", pg)) if not _reachable(addr)]
    if down:
        pytest.fail(f"{' and '.join(down)} not reachable: run the tests with `make test`, which starts them")
    return {"kafka": KAFKA, "pg_dsn": PG_DSN}


@pytest.fixture
def namespace() -> str:
    """A fresh namespace: its own topics, consumer groups and schemas."""
    return f"t{uuid.uuid4().hex[:10]}"


@pytest.fixture
def launch(tmp_path: Path):
    """Start `kongfu` processes; all are stopped at the end of the test."""
    started: list[ServiceProcess] = []

    def start(args: list[str], env: dict[str, str], name: str) -> ServiceProcess:
        process = ServiceProcess(args, env, tmp_path / f"{name}.log")
        started.append(process)
        return process.start()

    yield start
    for process in started:
        process.stop()


@pytest.fixture
def slice_on_stack(stack, namespace, launch, tmp_path):
    """orders and fraud as separate processes on the real broker and database."""
    env = stack_env(namespace, tmp_path / "var")
    orders = launch(["serve", "orders", "--mode", "stack"], env, "orders")
    fraud = launch(["serve", "fraud", "--mode", "stack"], env, "fraud")
    return {"orders": orders.url, "fraud": fraud.url, "namespace": namespace, "env": env}


@pytest.fixture(scope="module")
def platform_on_stack(stack, tmp_path_factory):
    """All six services as separate processes on the real broker and database (one per module)."""
    namespace = f"t{uuid.uuid4().hex[:10]}"
    log_dir = tmp_path_factory.mktemp("platform")
    env = stack_env(namespace, log_dir / "var")
    urls, processes = start_platform(["--mode", "stack"], env, log_dir)
    yield {**urls, "namespace": namespace, "env": env, "mode": "stack"}
    for process in processes:
        process.stop()


@pytest.fixture
def embedded(launch, tmp_path):
    """The embedded default (`kongfu run`): every service in one process on SQLite."""
    secrets = stack_env("", tmp_path)
    env = {"KONGFU_VAR_DIR": str(tmp_path / "var"), "KONGFU_JWT_SECRET": secrets["KONGFU_JWT_SECRET"],
           "KONGFU_CARRIER_WEBHOOK_SECRET": secrets["KONGFU_CARRIER_WEBHOOK_SECRET"]}
    process = launch(["run"], env, "embedded")
    return {**{s: process.url for s in SERVICES}, "env": {**env, "KONGFU_MODE": "embedded"}, "mode": "embedded"}
