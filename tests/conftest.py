import os
import socket
import warnings
from pathlib import Path

import pytest

from kongfu.local import SERVICES, ServiceProcess, start_platform
from kongfu.namespaces import forget_namespaces
from service_runtime.settings import Settings
from tests.support import NAMESPACES_MADE, listen_to, new_namespace, paypal_env, stack_env, start_fake_paypal, \
    start_fake_stripe, stripe_env

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
    return new_namespace()


@pytest.fixture(scope="session", autouse=True)
def forget_namespaces_made():
    """At the end of the run, every namespace's topics and schemas are deleted: left on a
    long-lived stack, they pile up and the broker's idle work grows with them."""
    yield
    pg = PG_DSN.split("@", 1)[1].split("/", 1)[0]
    if not NAMESPACES_MADE or not (_reachable(KAFKA) and _reachable(pg)):
        return
    try:
        forget_namespaces(Settings(mode="stack", kafka_bootstrap=KAFKA, pg_dsn=PG_DSN), sorted(NAMESPACES_MADE))
    except Exception as exc:  # noqa: BLE001 - leftovers are no verdict on the tests
        warnings.warn(f"the run's namespaces not forgotten: {exc!r}", stacklevel=1)


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
def fake_stripe():
    """The Stripe fake (a real HTTP server speaking Stripe's API, sending signed webhooks)."""
    fake = start_fake_stripe()
    yield fake
    fake.stop()


@pytest.fixture
def fake_paypal():
    """The PayPal fake (a real HTTP server speaking PayPal's REST API, sending signed webhooks)."""
    fake = start_fake_paypal()
    yield fake
    fake.stop()


@pytest.fixture
def slice_on_stack(stack, namespace, launch, tmp_path, fake_stripe):
    """orders, fraud and payments as separate processes on the real broker and database."""
    env = {**stack_env(namespace, tmp_path / "var"), **stripe_env(fake_stripe)}
    orders = launch(["serve", "orders", "--mode", "stack"], env, "orders")
    fraud = launch(["serve", "fraud", "--mode", "stack"], env, "fraud")
    payments = launch(["serve", "payments", "--mode", "stack"], env, "payments")
    listen_to(fake_stripe, payments.url)
    return {"orders": orders.url, "fraud": fraud.url, "payments": payments.url, "namespace": namespace, "env": env,
            "stripe": fake_stripe}


@pytest.fixture(scope="module")
def platform_on_stack(stack, tmp_path_factory):
    """All six services as separate processes on the real broker and database (one per module)."""
    namespace = new_namespace()
    log_dir = tmp_path_factory.mktemp("platform")
    fake = start_fake_stripe()
    paypal = start_fake_paypal()
    env = {**stack_env(namespace, log_dir / "var"), **stripe_env(fake), **paypal_env(paypal)}
    urls, processes = start_platform(["--mode", "stack"], env, log_dir)
    listen_to(fake, urls["payments"])
    listen_to(paypal, urls["payments"])
    yield {**urls, "namespace": namespace, "env": env, "mode": "stack", "stripe": fake, "paypal": paypal}
    for process in processes:
        process.stop()
    fake.stop()
    paypal.stop()


@pytest.fixture
def embedded(launch, tmp_path, fake_stripe, fake_paypal):
    """The embedded default (`kongfu run`): every service in one process on SQLite."""
    secrets = stack_env("", tmp_path)
    env = {"KONGFU_VAR_DIR": str(tmp_path / "var"), "KONGFU_JWT_SECRET": secrets["KONGFU_JWT_SECRET"],
           "KONGFU_CARRIER_WEBHOOK_SECRET": secrets["KONGFU_CARRIER_WEBHOOK_SECRET"],
           "KONGFU_PAYMENT_PROVIDER_TIMEOUT_SECONDS": "2", **stripe_env(fake_stripe), **paypal_env(fake_paypal)}
    process = launch(["run"], env, "embedded")
    listen_to(fake_stripe, process.url)
    listen_to(fake_paypal, process.url)
    return {**{s: process.url for s in SERVICES}, "env": {**env, "KONGFU_MODE": "embedded"}, "mode": "embedded",
            "stripe": fake_stripe, "paypal": fake_paypal}
