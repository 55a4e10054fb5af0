"""`make bench-compare BASE=<revision>`: this checkout's bench against another revision's, run
alternately on the same broker and database.

On a shared machine the CPU a lifecycle costs moves by 10-30 % between two runs minutes apart
(other tenants, caches, the broker's compiler), so a "before" measured yesterday and an "after"
measured today say little. Here the two benches run in turns (base, this, base, this, ...), each
on its own fresh namespace, and the medians are compared.

The base revision is checked out into a temporary git worktree (removed afterwards) and its
bench runs from there (`python -m kongfu.bench`, its own code). It must have `kongfu.bench` with
`--paced-lifecycles` and `--json`.

`--side-by-side` drives both at the same time instead (`kongfu/bench_side.py`): two platforms on
the same stack, each in its own namespace, started together and driven together, so that both
meet the same neighbours. They share PostgreSQL and Kafka, so only the services' CPU is
compared; for a change of a few percent that is the figure that settles, where runs in turns
can swing by a third.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import uuid
from pathlib import Path
from typing import Any

from kongfu.local import ROOT
from kongfu.namespaces import forget_after_run
from service_runtime.settings import Settings

FIGURES = (  # (label, how to read it from a bench's --json output)
    ("platform CPU-s per lifecycle, raw", lambda f: f["run"]["platform_cpu_s_per_lifecycle_raw"]),
    ("platform CPU-s per lifecycle, idle subtracted", lambda f: f["run"]["platform_cpu_s_per_lifecycle"]),
    ("  services, raw", lambda f: f["run"]["per_family_raw"].get("services", 0.0)),
    ("  PostgreSQL, raw", lambda f: f["run"]["per_family_raw"].get("postgres", 0.0)),
    ("  Kafka, raw", lambda f: f["run"]["per_family_raw"].get("kafka", 0.0)),
    ("platform idle, cores", lambda f: f["run"]["platform_idle_cores"]),
    ("lifecycles/s", lambda f: f["run"]["lifecycles_per_s"]),
    # A count, not a time: it moves only when the work does. Benches before it was added lack it.
    ("PostgreSQL transactions per lifecycle", lambda f: f["run"].get("database_transactions_per_lifecycle")),
)


def median_change(base: list[float], this: list[float]) -> str:
    """The change of this side's median from the base's, in %."""
    mb, mt = statistics.median(base), statistics.median(this)
    return f"{(mt - mb) / mb * 100:+.0f} %"


def summary(runs: dict[str, list[dict[str, Any]]]) -> list[str]:
    """A table: per figure, each side's runs and median, and this checkout's change in %."""
    base, this = runs["base"], runs["this"]
    lines = [f"{'figure':48} {'base runs':>26} {'this runs':>26} {'median base':>12} {'median this':>12} {'change':>7}"]
    for label, read in FIGURES:
        b = [v for v in map(read, base) if v is not None]
        t = [v for v in map(read, this) if v is not None]
        mb, mt = (statistics.median(b) if b else None), (statistics.median(t) if t else None)
        change = median_change(b, t) if mb and mt is not None else "-"
        runs_b, runs_t = " ".join(f"{v:.3f}" for v in b) or "-", " ".join(f"{v:.3f}" for v in t) or "-"
        median_b, median_t = ("-" if m is None else f"{m:.3f}" for m in (mb, mt))
        lines.append(f"{label:48} {runs_b:>26} {runs_t:>26} {median_b:>12} {median_t:>12} {change:>7}")
    return lines


def _line_from(process: subprocess.Popen, wanted) -> str | None:
    """The first line of the process's output that is `wanted`; None if it ended first."""
    for line in process.stdout:
        if wanted(line.strip()):
            return line.strip()
    return None


def side_by_side(trees: dict[str, Path], lifecycles: int, concurrency: int, round_no: int) -> dict[str, dict]:
    """One round: both platforms started, warmed up, then driven at once; each side's figures."""
    sides = {}
    for side, tree in trees.items():
        namespace = f"pair{side[0]}{uuid.uuid4().hex[:8]}"
        sides[side] = (namespace, subprocess.Popen(
            [sys.executable, str(Path(__file__).with_name("bench_side.py")), str(lifecycles), str(concurrency),
             namespace], cwd=tree, env={**os.environ, "PYTHONPATH": str(tree)}, text=True,
            stdin=subprocess.PIPE, stdout=subprocess.PIPE))
    try:
        for side, (_, process) in sides.items():
            if _line_from(process, lambda line: line == "ready") is None:
                raise RuntimeError(f"the {side} side did not start (see its output above)")
        for _, process in (sides.values() if round_no % 2 else reversed(sides.values())):
            process.stdin.write("go\n")  # which side starts first alternates between rounds
            process.stdin.flush()
        figures = {side: _line_from(process, lambda line: line.startswith("{")) for side, (_, process) in sides.items()}
        for side, figure in figures.items():
            if figure is None:
                raise RuntimeError(f"the {side} side ended before its figures (see its output above)")
        return {side: json.loads(figure) for side, figure in figures.items()}
    finally:
        for namespace, process in sides.values():
            process.wait(timeout=120)
            print(forget_after_run(Settings(mode="stack", namespace=namespace)), flush=True)


def bench(tree: Path, args: list[str], out: Path) -> dict[str, Any]:
    subprocess.run([sys.executable, "-m", "kongfu.bench", *args, "--json", str(out)], cwd=tree, check=True,
                   env={**os.environ, "PYTHONPATH": str(tree)}, stdout=subprocess.DEVNULL)
    return json.loads(out.read_text())


def compare_side_by_side(trees: dict[str, Path], args: argparse.Namespace) -> None:
    cost: dict[str, list[float]] = {"base": [], "this": []}
    for round_no in range(1, args.rounds + 1):
        figures = side_by_side(trees, args.lifecycles, args.concurrency, round_no)
        for side, figure in figures.items():
            cost[side].append(figure["services_cpu_s_per_lifecycle"])
        print(f"round {round_no}: services' CPU-s per lifecycle, base {cost['base'][-1]:.3f}, "
              f"this {cost['this'][-1]:.3f} ({median_change(cost['base'][-1:], cost['this'][-1:])})", flush=True)
    print(f"\n{args.base} (base) against this checkout side by side, {args.rounds} rounds, "
          f"{args.lifecycles} lifecycles at {args.concurrency} each: services' CPU-s per lifecycle, "
          f"median base {statistics.median(cost['base']):.3f}, this {statistics.median(cost['this']):.3f} "
          f"({median_change(cost['base'], cost['this'])})")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--base", required=True, help="the revision to compare against (a commit, tag or branch)")
    parser.add_argument("--rounds", type=int, default=3, help="runs of each side")
    parser.add_argument("--lifecycles", type=int, default=40)
    parser.add_argument("--concurrency", type=int, default=10)
    parser.add_argument("--idle-seconds", type=float, default=15.0)
    parser.add_argument("--side-by-side", action="store_true",
                        help="drive both at once and compare the services' CPU (see above)")
    args = parser.parse_args(argv)
    bench_args = ["--lifecycles", str(args.lifecycles), "--concurrency", str(args.concurrency),
                  "--idle-seconds", str(args.idle_seconds), "--paced-lifecycles", "0", "--skip-replay",
                  "--skip-embedded"]
    work = Path(tempfile.mkdtemp(prefix="kongfu-bench-compare-"))
    base_tree = work / "base"
    subprocess.run(["git", "worktree", "add", "--detach", str(base_tree), args.base], cwd=ROOT, check=True,
                   stdout=subprocess.DEVNULL)
    try:
        (base_tree / "var").symlink_to(ROOT / "var")  # the same stack (the bench finds the broker's pid there)
        if args.side_by_side:
            compare_side_by_side({"base": base_tree, "this": ROOT}, args)
            return
        runs: dict[str, list[dict[str, Any]]] = {"base": [], "this": []}
        for round_no in range(1, args.rounds + 1):
            for side, tree in (("base", base_tree), ("this", ROOT)):
                figures = bench(tree, bench_args, work / f"{side}-{round_no}.json")
                runs[side].append(figures)
                print(f"round {round_no} {side:4}: platform {figures['run']['platform_cpu_s_per_lifecycle_raw']:.3f} "
                      f"CPU-s per lifecycle raw", flush=True)
        print(f"\n{args.base} (base) against this checkout, {args.rounds} runs each, "
              f"{args.lifecycles} lifecycles at {args.concurrency}:")
        print("\n".join(summary(runs)))
    finally:
        subprocess.run(["git", "worktree", "remove", "--force", str(base_tree)], cwd=ROOT, check=False)


if __name__ == "__main__":
    main()
