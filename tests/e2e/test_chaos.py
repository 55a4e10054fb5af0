"""A short `kongfu chaos` run: a few lifecycles under one fault of each kind, then the verdict
(no loss, no duplicated effect, no dead letter, live checksum = replay checksum)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

from tests.support import ROOT


def test_a_short_chaos_run_loses_and_duplicates_nothing(stack):
    # Its own process group: if the run overstays, its service processes are killed with it.
    run = subprocess.Popen([sys.executable, "-m", "kongfu.cli", "chaos", "--short", "--lifecycles", "3",
                            "--concurrency", "2"], cwd=ROOT, env=os.environ, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        stdout, stderr = run.communicate(timeout=1500)  # ~5 min on a quiet machine; far more when starved
    except subprocess.TimeoutExpired:
        os.killpg(run.pid, signal.SIGKILL)
        stdout, stderr = run.communicate()
        raise AssertionError(f"the chaos run took over 25 minutes:\n{stdout}\n{stderr[-3000:]}")
    out = subprocess.CompletedProcess(run.args, run.returncode, stdout, stderr)
    report = out.stdout + out.stderr[-3000:]
    assert out.returncode == 0, report
    assert "verdict: PASS" in out.stdout, report
    for kind in ("SIGKILL + restart", "SIGSTOP 5 s + SIGCONT", "Kafka broker stop + start", "PostgreSQL restart",
                 "relay killed between publish and position save", "projection replay during load",
                 "2 answers lost after commit (proxy drops them)", "second worker in the group, SIGKILLed under load",
                 "second API replica (round robin), SIGKILLed under load"):
        assert f"| {kind} |" in out.stdout, f"fault {kind} did not run:\n{report}"
    assert out.stdout.count("equal") == 4, report  # every projection's live checksum = its replay
    assert " forgotten: " in out.stdout, report  # a passing run leaves no topics or schemas behind
