"""`make bench-compare BASE=<revision>`: this checkout's bench against another revision's, run
alternately on the same broker and database.

On a shared machine the CPU a lifecycle costs moves by 10-30 % between two runs minutes apart
(other tenants, caches, the broker's compiler), so a "before" measured yesterday and an "after"
measured today say little. Here the two benches run in turns (base, this, base, this, ...), each
on its own fresh namespace, and the medians are compared.

The base revision is checked out into a temporary git worktree (removed afterwards) and its
bench runs from there (`python -m kongfu.bench`, its own code). It must have `kongfu.bench` with
`--paced-lifecycles` and `--json`.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from kongfu.local import ROOT

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


def summary(runs: dict[str, list[dict[str, Any]]]) -> list[str]:
    """A table: per figure, each side's runs and median, and this checkout's change in %."""
    base, this = runs["base"], runs["this"]
    lines = [f"{'figure':48} {'base runs':>26} {'this runs':>26} {'median base':>12} {'median this':>12} {'change':>7}"]
    for label, read in FIGURES:
        b = [v for v in map(read, base) if v is not None]
        t = [v for v in map(read, this) if v is not None]
        mb, mt = (statistics.median(b) if b else None), (statistics.median(t) if t else None)
        change = f"{(mt - mb) / mb * 100:+.0f} %" if mb and mt is not None else "-"
        runs_b, runs_t = " ".join(f"{v:.3f}" for v in b) or "-", " ".join(f"{v:.3f}" for v in t) or "-"
        median_b, median_t = ("-" if m is None else f"{m:.3f}" for m in (mb, mt))
        lines.append(f"{label:48} {runs_b:>26} {runs_t:>26} {median_b:>12} {median_t:>12} {change:>7}")
    return lines


def bench(tree: Path, args: list[str], out: Path) -> dict[str, Any]:
    subprocess.run([sys.executable, "-m", "kongfu.bench", *args, "--json", str(out)], cwd=tree, check=True,
                   env={**os.environ, "PYTHONPATH": str(tree)}, stdout=subprocess.DEVNULL)
    return json.loads(out.read_text())


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--base", required=True, help="the revision to compare against (a commit, tag or branch)")
    parser.add_argument("--rounds", type=int, default=3, help="runs of each side")
    parser.add_argument("--lifecycles", type=int, default=40)
    parser.add_argument("--concurrency", type=int, default=10)
    parser.add_argument("--idle-seconds", type=float, default=15.0)
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
