"""A full disk under the orders service's tables: commands answer 503 with Retry-After, never 500,
and lose nothing; once space is freed, the same Idempotency-Key places the order exactly once.

The stack's own PostgreSQL keeps its data directory; only this test's schema lives on a small
tmpfs, through a tablespace that the service's connections use by default (`PGOPTIONS`), so the
fault reaches the tables the service writes and not the write-ahead log the cluster needs.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import uuid
from pathlib import Path
from urllib.parse import urlparse

import httpx
import psycopg
import pytest

from service_runtime.eventlog import topic_for
from tests.e2e.journeys import TAOBAO_ITEM
from tests.support import ROOT, auth, envelopes, stack_env, wait_until

DISK_BYTES = 8 * 1024 * 1024


def superuser(dsn: str) -> psycopg.Connection:
    """The stack's PostgreSQL as its superuser, over its Unix socket (local connections are trusted
    in the cluster `deploy/local/postgres.sh` makes); only a superuser can create a tablespace."""
    pid_file = ROOT / "var/postgres/data/postmaster.pid"
    lines = pid_file.read_text().splitlines()
    port, socket_dir = lines[3].strip(), lines[4].strip()
    assert int(port) == (urlparse(dsn).port or 5432), f"{pid_file} is not the cluster at {dsn}"
    return psycopg.connect(host=socket_dir, port=port, user="postgres", dbname=urlparse(dsn).path.lstrip("/"),
                           autocommit=True)


@pytest.fixture
def small_disk():
    """An 8 MiB tmpfs the PostgreSQL server may write to (pytest's own temporary directories are
    closed to other users, and the server runs as one)."""
    mount = Path(tempfile.mkdtemp(prefix="kongfu-full-disk-"))
    mount.chmod(0o755)
    subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={DISK_BYTES},mode=0755", "tmpfs", str(mount)], check=True)
    try:
        owner = (ROOT / "var/postgres/data").stat()
        space = mount / "tablespace"
        space.mkdir(mode=0o700)
        shutil.chown(space, owner.st_uid, owner.st_gid)
        yield mount, space
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)
        mount.rmdir()


def fill(mount: Path) -> Path:
    """Take every free byte of the disk."""
    filler = mount / "filler"
    with open(filler, "wb") as out:
        try:
            while True:
                out.write(b"\0" * 65536)
                out.flush()
        except OSError:
            pass
    return filler


def order_body(n: int) -> dict:
    return {"destination_country": "GB",
            "items": [{"product_url": TAOBAO_ITEM.format(item=10**9 + n), "sku": "colour:black;size:M",
                       "quantity": 1, "unit_price": "99.50"}]}


def test_a_full_disk_answers_503_and_loses_nothing(stack, namespace, launch, tmp_path, small_disk):
    mount, space = small_disk
    tablespace = f"{namespace}_small_disk"
    with superuser(stack["pg_dsn"]) as admin:
        admin.execute(f"CREATE TABLESPACE {tablespace} LOCATION '{space}'")
        admin.execute(f"GRANT CREATE ON TABLESPACE {tablespace} TO {urlparse(stack['pg_dsn']).username}")
    env = {**stack_env(namespace, tmp_path / "var"), "PGOPTIONS": f"-c default_tablespace={tablespace}"}
    try:
        orders = launch(["serve", "orders", "--mode", "stack"], env, "orders")
        customer = f"full-disk-{uuid.uuid4().hex[:6]}"
        client = httpx.Client(base_url=orders.url, headers=auth(customer, "customer"), timeout=30)

        def place(n: int) -> httpx.Response:
            return client.post("/orders", json=order_body(n), headers={"Idempotency-Key": f"full-disk-{n}"})

        first = place(0)
        assert first.status_code == 201
        filler = fill(mount)

        # The tables' pages that still have room take a few more orders; then every one is refused.
        answers = {}
        for n in range(1, 400):
            answers[n] = place(n)
            if answers[n].status_code != 201:
                break
        refused = answers[n]
        assert refused.status_code == 503, refused.text
        assert refused.headers.get("retry-after"), refused.headers
        assert refused.headers["content-type"].startswith("application/problem+json")
        assert refused.json()["detail"] == "the database has no disk space left; retry later"
        assert all(r.status_code in (201, 503) for r in answers.values())

        filler.unlink()
        retried = wait_until(lambda: (r := place(n)).status_code == 201 and r, timeout=30,
                             what="the order to be placed once space is back")
        assert place(n).json()["order_id"] == retried.json()["order_id"]  # the same key: the same order

        placed = {r.json()["order_id"] for r in [first, retried, *answers.values()] if r.status_code == 201}
        topic = topic_for("orders", namespace)

        def published() -> list[str]:
            return [e.payload["order_id"] for e in envelopes(stack["kafka"], topic)
                    if e.type == "orders.OrderPlaced" and e.payload["customer_id"] == customer]

        seen = wait_until(lambda: (ids := published()) and len(ids) >= len(placed) and ids, timeout=60,
                          what="every placed order on the orders topic")
        print(f"{n - 1} orders placed on the nearly full disk, then 503: {refused.json()['detail']}")
        assert sorted(seen) == sorted(placed) and len(placed) == n + 1  # each once, none lost
        orders.stop()
    finally:
        with superuser(stack["pg_dsn"]) as admin:
            schemas = [row[0] for row in admin.execute(
                "SELECT nspname FROM pg_namespace WHERE nspname LIKE %s", (f"{namespace}%",))]
            for schema in schemas:
                admin.execute(f'DROP SCHEMA "{schema}" CASCADE')
            admin.execute(f"DROP TABLESPACE IF EXISTS {tablespace}")
