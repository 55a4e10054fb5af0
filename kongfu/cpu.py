"""CPU seconds of every process a bench run involves, read from /proc and grouped by who they
serve: each service process (by service and roles), the Kafka JVM, PostgreSQL backends by their
`application_name` (`PGAPPNAME=kongfu-<service>-<roles>`), PostgreSQL's own processes, the driver.

A busy machine slows a run but does not change the CPU a process spends, so these figures hold
where wall-clock rates do not.
"""

from __future__ import annotations

import os
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
POSTGRES_SHARED = "postgres (shared)"
DRIVER = "driver (+ fakes)"
DRIVER_SESSION = "postgres: bench-driver"  # PGAPPNAME=kongfu-bench-driver
APP_PREFIX = "kongfu-"


@dataclass(frozen=True)
class ProcStat:
    ppid: int
    own: float  # user + system seconds of the process (all its threads)
    reaped_children: float  # user + system seconds of children it has waited for


def parse_stat(text: str) -> ProcStat:
    """One /proc/<pid>/stat line; the command name may hold spaces and parentheses."""
    fields = text.rsplit(")", 1)[1].split()
    # after the name: state(0) ppid(1) ... utime(11) stime(12) cutime(13) cstime(14)
    return ProcStat(int(fields[1]), (int(fields[11]) + int(fields[12])) / CLOCK_TICKS,
                    (int(fields[13]) + int(fields[14])) / CLOCK_TICKS)


def read_stat(pid: int) -> ProcStat | None:
    try:
        return parse_stat(Path(f"/proc/{pid}/stat").read_text())
    except (FileNotFoundError, ProcessLookupError, IndexError, ValueError):
        return None


def postgres_group(application_name: str) -> str:
    """`kongfu-orders-api,relay` → `postgres: orders-api,relay`; anything else is PostgreSQL's own."""
    if application_name.startswith(APP_PREFIX):
        return f"postgres: {application_name[len(APP_PREFIX):]}"
    return POSTGRES_SHARED


def attribute_postgres(rows: Iterable[tuple[int, str | None]], postmaster: int | None) -> dict[int, str]:
    """pid → group for pg_stat_activity's (pid, application_name) rows, plus the postmaster, whose
    reaped children (backends that exited) count as shared."""
    groups = {pid: postgres_group(name or "") for pid, name in rows}
    if postmaster:
        groups[postmaster] = POSTGRES_SHARED
    return groups


def postgres_processes(dsn: str) -> dict[int, str]:
    import psycopg

    with psycopg.connect(dsn, autocommit=True) as conn:
        rows = conn.execute("SELECT pid, application_name FROM pg_stat_activity").fetchall()
    parents = {stat.ppid for pid, _ in rows if (stat := read_stat(pid))}
    postmaster = next(iter(parents)) if len(parents) == 1 else None
    return attribute_postgres(rows, postmaster)


def database_transactions(dsn: str) -> int:
    """Transactions committed or rolled back in the database so far: every statement a service
    sends on its own is one. A count, not a time: the same work gives the same figure however
    busy the machine is. Backends report theirs within a second or so of finishing."""
    import psycopg

    with psycopg.connect(dsn, autocommit=True) as conn:
        return conn.execute("SELECT xact_commit + xact_rollback FROM pg_stat_database "
                            "WHERE datname = current_database()").fetchone()[0]


def kafka_pid(root: Path) -> int | None:
    """The local stack's broker (deploy/local/kafka.sh keeps its pid beside its config)."""
    pidfile = root / "var/kafka/kafka.pid"
    try:
        pid = int(pidfile.read_text().strip())
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ")
    except (FileNotFoundError, ValueError):
        return None
    return pid if b"kafka.Kafka" in cmdline else None


class CpuMeter:
    """Snapshots of every involved process; the difference of two is CPU seconds per group."""

    def __init__(self, dsn: str, root: Path) -> None:
        self.dsn, self.root = dsn, root
        self.services: dict[int, str] = {}  # pid → "orders [api,relay,...]"

    def processes(self) -> dict[int, str]:
        groups = {os.getpid(): DRIVER, **self.services, **postgres_processes(self.dsn)}
        if pid := kafka_pid(self.root):
            groups[pid] = "kafka"
        return groups

    def snapshot(self) -> dict[int, tuple[str, float]]:
        out = {}
        for pid, group in self.processes().items():
            stat = read_stat(pid)
            if stat:  # the postmaster's reaped children: backends that exited
                out[pid] = (group, stat.own + (stat.reaped_children if group == POSTGRES_SHARED else 0.0))
        return out


def difference(before: dict[int, tuple[str, float]], after: dict[int, tuple[str, float]]) -> dict[str, float]:
    """CPU seconds per group between two snapshots. A process new in `after` spent all of its CPU
    in between; a PostgreSQL backend gone by `after` was reaped by the postmaster, whose
    children's CPU then holds all of it, so what it had spent before is taken off again."""
    spent: dict[str, float] = defaultdict(float)
    for pid, (group, cpu) in after.items():
        spent[group] += cpu - (before[pid][1] if pid in before else 0.0)
    for pid, (group, cpu) in before.items():
        if pid not in after and group.startswith("postgres"):
            spent[POSTGRES_SHARED] -= cpu
    return dict(spent)


def is_platform(group: str) -> bool:
    """What counts as the platform's CPU: not the driver nor its own database session."""
    return group not in (DRIVER, DRIVER_SESSION)
