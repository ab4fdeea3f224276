"""Chaos test of dagstorm itself: SIGKILL it at random moments while faults are active.

After each kill, `dagstorm recover` must leave the stack whole: Toxiproxy has no
toxic and every proxy enabled, no process of the stack is stopped, and every
component is running and healthy. Rounds: ``DAGSTORM_CHAOS_ROUNDS`` (default 6, which keeps
CI within its budget; 20-round figures are in docs/faults.md).
Its report must be true: it names exactly the components it started (counted
from the start lines in their logs), starts each at most once (twice only for one
it reports as wedged), and redeploys the pipeline only when it started something.
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import re
import signal
import subprocess
import sys
import time

import psutil
import pytest

from dagstorm.clients.toxiproxy import ToxiproxyClient
from dagstorm.faults.journal import FaultJournal
from dagstorm.stack.embedded.context import StackContext
from dagstorm.stack.embedded.launcher import EmbeddedStack
from dagstorm.stack.endpoints import Stack

pytestmark = [pytest.mark.integration, pytest.mark.slow]

SPECS = [
    ["network", "link=kafka", "effect=latency", "latency_ms=300"],
    ["network", "link=kafka", "effect=bandwidth", "rate_kb_per_s=64"],
    ["network", "link=airflow-db", "effect=down"],
    ["network", "link=serving-db", "effect=flap", "period_s=0.3"],
    ["network", "link=airflow-api", "effect=stall"],
    ["broker", "action=pause"],
    ["broker", "action=kill"],
    ["airflow", "action=pause", "component=scheduler"],
    ["airflow", "action=kill", "component=triggerer"],
]


def _dagstorm(ctx: StackContext, *args: str) -> list[str]:
    return [sys.executable, "-m", "dagstorm", "--state-dir", str(ctx.layout.root), *args]


def _starts(ctx: StackContext) -> dict[str, int]:
    """How many times each component was started: the line `spawn` writes to its log."""
    counts: dict[str, int] = {}
    for name in EmbeddedStack(ctx).components:
        try:
            text = ctx.layout.log(name).read_text(errors="replace")
        except FileNotFoundError:
            text = ""
        counts[name] = text.count(f"=== dagstorm: starting {name} at ")
    return counts


def _started_since(ctx: StackContext, before: dict[str, int]) -> dict[str, int]:
    return {n: c - before[n] for n, c in _starts(ctx).items() if c != before[n]}


def _reported_starts(stdout: str) -> dict[str, int]:
    """The components `recover` says it started ("stack restarted: yes (a, b ×2)")."""
    found = re.search(r"stack restarted: (?:no|yes \((.*?)\))\s*$", stdout, re.MULTILINE)
    assert found is not None, stdout
    starts: dict[str, int] = {}
    for item in filter(None, (found.group(1) or "").split(", ")):
        name, _, times = item.partition(" ×")
        starts[name] = int(times or 1)
    return starts


def _reported_wedged(stdout: str) -> list[str]:
    found = re.search(r"^restarted as wedged \(.*?\): (.*)$", stdout, re.MULTILINE)
    return found.group(1).split(", ") if found else []


def _reported_died(stdout: str) -> list[str]:
    found = re.search(r"^started again \(died after its start\): (.*)$", stdout, re.MULTILINE)
    return found.group(1).split(", ") if found else []


def _recover(ctx: StackContext, *flags: str) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        _dagstorm(ctx, *flags, "recover"),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, (done.stdout, done.stderr)
    return done


def _deploys(done: subprocess.CompletedProcess[str]) -> int:
    """Deploys of the stack's pipelines, from the progress lines (not with -q)."""
    return sum(
        1
        for line in (done.stdout + done.stderr).splitlines()
        if line.startswith("✓ deploy pipeline ")
    )


def _not_running(ctx: StackContext) -> list[str]:
    status = subprocess.run(
        _dagstorm(ctx, "stack", "status", "--json"),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    return [r["name"] for r in json.loads(status.stdout) if r["state"] != "running"]


def test_with_nothing_to_recover_recover_starts_and_deploys_nothing(
    stack: Stack, stack_context: StackContext
) -> None:
    _recover(stack_context)  # whatever an earlier test left is healed first
    before = _starts(stack_context)
    done = _recover(stack_context)
    assert _started_since(stack_context, before) == {}
    assert _reported_starts(done.stdout) == {}
    assert "stack restarted: no" in done.stdout
    assert _deploys(done) == 0
    assert _not_running(stack_context) == []


@pytest.mark.parametrize("how", ["orphaned kill fault", "SIGKILL behind dagstorm's back"])
def test_after_a_scheduler_kill_recover_starts_it_once_says_so_and_deploys_once(
    stack: Stack, stack_context: StackContext, how: str
) -> None:
    _recover(stack_context)
    scheduler = EmbeddedStack(stack_context).components["airflow-scheduler"]
    before = _starts(stack_context)
    if how == "orphaned kill fault":
        # Without --duration the fault stays applied and its dagstorm exits: orphaned.
        injected = subprocess.run(
            _dagstorm(
                stack_context, "fault", "inject", "airflow", "action=kill", "component=scheduler"
            ),
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert injected.returncode == 0, (injected.stdout, injected.stderr)
    else:
        record = scheduler.running()
        assert record is not None
        os.killpg(record.pid, signal.SIGKILL)
        with contextlib.suppress(psutil.NoSuchProcess):
            psutil.Process(record.pid).wait(timeout=30)
    assert scheduler.running() is None
    done = _recover(stack_context)
    assert _started_since(stack_context, before) == {"airflow-scheduler": 1}
    assert _reported_starts(done.stdout) == {"airflow-scheduler": 1}
    assert _deploys(done) == 1
    assert _not_running(stack_context) == []


def _wait_for_intent(journal: FaultJournal, child: subprocess.Popen[bytes]) -> None:
    """Until the child dagstorm has journaled its fault's intent (bounded)."""
    deadline = time.monotonic() + 60
    while not any(
        e.get("event") == "intent" and e.get("pid") == child.pid for e in journal.entries()
    ):
        assert child.poll() is None, "the injecting dagstorm exited before its intent"
        assert time.monotonic() < deadline, "no intent journaled within 60 s"
        time.sleep(0.02)


def _stopped_processes(ctx: StackContext) -> list[str]:
    stopped = []
    for name, comp in EmbeddedStack(ctx).components.items():
        record = comp.record()
        if record is None:
            continue
        for proc in psutil.process_iter():
            try:
                if os.getpgid(proc.pid) == record.pid and proc.status() == psutil.STATUS_STOPPED:
                    stopped.append(f"{name}:{proc.pid}")
            except (psutil.Error, ProcessLookupError):
                continue
    return stopped


def test_sigkill_during_faults_then_recover_leaves_the_stack_whole(
    stack: Stack, stack_context: StackContext
) -> None:
    rounds = int(os.environ.get("DAGSTORM_CHAOS_ROUNDS", "6"))
    rng = random.Random(20261124)
    journal = FaultJournal(stack_context.layout.root / "faults" / "journal.jsonl")
    results = []
    for round_no in range(rounds):
        spec = rng.choice(SPECS)
        delay = rng.uniform(0.0, 1.5)
        child = subprocess.Popen(
            _dagstorm(stack_context, "-q", "fault", "inject", *spec, "--duration", "60s"),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        # Kill it at a random moment of the fault's life: from its intent (journaled
        # before inject) through inject, verify and the hold. Counted from the
        # child's start, most kills would land in its ~2 s of imports, before any
        # fault exists, and leave recover nothing to do.
        _wait_for_intent(journal, child)
        time.sleep(delay)
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=10)
        before = _starts(stack_context)
        started = time.monotonic()
        recovered = _recover(stack_context, "-q")
        took = time.monotonic() - started
        # Its fault was journaled, so recover had it to revert.
        assert "recover: 1 fault(s) reverted," in recovered.stdout, (round_no, spec)
        # The report is true: it names exactly what was started, each once unless it
        # says why (a wedged one was stopped and started again; one that died after
        # its start was started again), and it redeploys only if it started something.
        starts = _started_since(stack_context, before)
        assert _reported_starts(recovered.stdout) == starts, (round_no, spec, recovered.stdout)
        again = set(_reported_wedged(recovered.stdout)) | set(_reported_died(recovered.stdout))
        assert all(n <= (2 if name in again else 1) for name, n in starts.items()), (
            starts,
            recovered.stdout,
        )
        deployed = "pipeline profile(s) deployed again: " in recovered.stdout
        assert deployed == bool(starts), (round_no, spec, recovered.stdout)
        assert stack.toxiproxy_url is not None
        with ToxiproxyClient(stack.toxiproxy_url) as client:
            proxies = client.list_proxies()
        assert [p.name for p in proxies if p.toxics] == [], (round_no, spec)
        assert [p.name for p in proxies if not p.enabled] == [], (round_no, spec)
        assert _stopped_processes(stack_context) == [], (round_no, spec)
        assert _not_running(stack_context) == [], (round_no, spec)
        restarted = ", ".join(f"{n}×{c}" for n, c in starts.items()) or "nothing"
        results.append((" ".join(spec), round(delay, 2), round(took, 1), restarted))
    print(f"\nchaos rounds: {len(results)}, all recovered")
    for spec_text, delay, took, restarted in results:
        print(
            f"  killed {delay:>4} s after the intent of `{spec_text}` → recover {took} s, "
            f"started {restarted}"
        )
