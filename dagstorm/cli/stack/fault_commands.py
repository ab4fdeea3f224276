"""`dagstorm fault …` and `dagstorm recover`: ad-hoc game days from the shell."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime

import click
from rich.table import Table

from dagstorm.cli import cli
from dagstorm.cli.common import Settings, fail, handle_errors, out
from dagstorm.cli.stack.fault_args import spec_from_args
from dagstorm.core.durations import duration_text, parse_duration
from dagstorm.core.errors import ExitCode, UsageError
from dagstorm.faults.kinds import parse_fault_spec
from dagstorm.faults.specs import NetworkFault

# The fault manager and recover load every fault family and its clients (~0.7 s): they
# are imported where used, so other commands (`validate`) start quickly.


@cli.group()
def fault() -> None:
    """Inject, list and revert faults by hand (the same machinery `run` uses).

    \b
    Example:
      dagstorm fault inject network link=kafka effect=latency latency_ms=300 --duration 60s
    """


@fault.command("inject")
@click.argument("kind", metavar="KIND")
@click.argument("fields", nargs=-1)
@click.option("--duration", help="Hold the fault this long, then revert (e.g. 30s, 2m).")
@click.pass_obj
@handle_errors
def fault_inject(
    settings: Settings, kind: str, fields: tuple[str, ...], duration: str | None
) -> None:
    """Inject one fault; it stays applied until `fault revert` unless --duration is given.

    KIND is a fault kind: network, broker, celery, spark, airflow, jvm, host, or one a plugin
    adds (docs/faults.md, docs/plugins.md). Ctrl-C or SIGTERM during --duration
    reverts it at once.

    \b
    Example:
      dagstorm fault inject broker action=pause --duration 30s
      dagstorm fault inject jvm action=memory_stress "app=my_dag-aggregate-*" --duration 2m
      dagstorm fault inject airflow action=kill component=scheduler
      dagstorm fault inject host action=partition worker=1 --duration 30s
    """
    spec = spec_from_args(kind, fields)
    hold = None
    if duration is not None:
        try:
            hold = parse_duration(duration)
        except ValueError as exc:
            raise UsageError(str(exc), where="--duration") from None
    if isinstance(spec, NetworkFault) and spec.effect == "flap" and hold is None:
        raise UsageError("a flapping link needs --duration", fix="add e.g. --duration 2m")
    from dagstorm.faults.manager import FaultManager, sigterm_raises

    manager = FaultManager(settings.fault_context())
    started = time.monotonic()
    active = manager.inject(spec)
    took = time.monotonic() - started
    out.print(
        f"injected {active.fault_id}: {spec.describe()} in {took:.2f} s — {active.evidence}",
        markup=False,
    )
    if hold is None:
        out.print(f"revert with: dagstorm fault revert {active.fault_id}", markup=False)
        manager.active.clear()  # stays applied on purpose; the journal keeps it open
        return
    with sigterm_raises(), manager:
        time.sleep(hold)
    out.print(f"reverted {active.fault_id} after {duration_text(hold)}", markup=False)


@fault.command("list")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.pass_obj
@handle_errors
def fault_list(settings: Settings, as_json: bool) -> None:
    """List faults that are applied now (from the fault journal).

    \b
    Example:
      dagstorm fault list
    """
    from dagstorm.faults.journal import owner_alive

    open_faults = settings.journal().open_faults()
    rows = [
        {
            "id": f.fault_id,
            "fault": parse_fault_spec(f.spec).describe(),
            "since": datetime.fromtimestamp(f.injected_at, UTC).isoformat(timespec="seconds"),
            "owner": f"pid {f.owner_pid}" + ("" if owner_alive(f) else " (gone)"),
        }
        for f in open_faults
    ]
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    table = Table(title=f"{len(rows)} fault(s) applied", title_justify="left")
    for column in ("id", "fault", "since", "owner"):
        table.add_column(column)
    for row in rows:
        table.add_row(*(str(row[c]) for c in ("id", "fault", "since", "owner")))
    out.print(table)


@fault.command("revert")
@click.argument("fault_ids", nargs=-1)
@click.option("--all", "revert_all", is_flag=True, help="Revert every applied fault.")
@click.pass_obj
@handle_errors
def fault_revert(settings: Settings, fault_ids: tuple[str, ...], revert_all: bool) -> None:
    """Revert applied faults by id (reverting twice is harmless).

    \b
    Example:
      dagstorm fault revert 3f2a9c01be
    """
    from dagstorm.faults.kinds import build_fault

    if not fault_ids and not revert_all:
        raise UsageError("name the fault id(s) to revert, or --all", fix="`dagstorm fault list`")
    ctx = settings.fault_context()
    open_faults = {f.fault_id: f for f in ctx.journal.open_faults()}
    unknown = [i for i in fault_ids if i not in open_faults]
    if unknown:
        raise UsageError(f"not applied: {', '.join(unknown)}", fix="`dagstorm fault list`")
    chosen = list(open_faults.values()) if revert_all else [open_faults[i] for i in fault_ids]
    for item in reversed(chosen):
        fault_obj = build_fault(parse_fault_spec(item.spec), item.fault_id, ctx)
        fault_obj.applied = item.applied
        started = time.monotonic()
        fault_obj.revert()
        ctx.journal.record(item.fault_id, "reverted", detail={"by": "fault revert"})
        out.print(
            f"reverted {item.fault_id}: {fault_obj.spec.describe()} "
            f"in {time.monotonic() - started:.2f} s",
            markup=False,
        )


def _starts(names: list[str]) -> str:
    """``a, b`` — with ``×2`` after a component started twice."""
    counts: dict[str, int] = {}
    for name in names:
        counts[name] = counts.get(name, 0) + 1
    return ", ".join(name + (f" ×{n}" if n > 1 else "") for name, n in counts.items())


def _deployed_again(profiles: list[str]) -> str:
    """What recover's deploy put back: the stack's pipeline profiles, by name."""
    if not profiles:
        return (
            "stack setup deployed again (no pipeline profile: the stack reads its own DAGs folder)"
        )
    return f"pipeline profile(s) deployed again: {', '.join(profiles)}"


@cli.command("recover")
@click.option("--force", is_flag=True, help="Also revert faults whose dagstorm process still runs.")
@click.pass_obj
@handle_errors
def recover_command(settings: Settings, force: bool) -> None:
    """Revert faults a killed dagstorm left applied, and heal the stack.

    Removes toxics, re-enables proxies, heals worker hosts (partitions, netem,
    their proxies' toxics), resumes stopped processes, restarts killed
    components and stops Locust processes a killed run left behind.
    Harmless when there is nothing to do, and quick then (one health check).

    \b
    Example:
      dagstorm recover
    """
    from dagstorm.engine.recover import recover

    report = recover(settings.fault_context(), force=force)
    restarted = f"yes ({_starts(report.started)})" if report.restarted else "no"
    lines = [
        f"recover: {len(report.reverted)} fault(s) reverted, {report.toxics_removed} stray "
        f"toxic(s) removed, proxies re-enabled: {', '.join(report.proxies_enabled) or 'none'}, "
        f"worker hosts restored: {report.hosts.summary()}, stack restarted: {restarted}"
    ]
    if report.resumed:
        lines.append(f"resumed (were stopped): {', '.join(report.resumed)}")
    if report.wedged:
        lines.append(f"restarted as wedged (running but not working): {', '.join(report.wedged)}")
    if report.died:
        lines.append(f"started again (died after its start): {', '.join(report.died)}")
    if report.deployed:
        lines.append(_deployed_again(report.profiles_deployed))
    if report.swarms_stopped:
        lines.append(f"stopped Locust swarm(s) of a killed run: {', '.join(report.swarms_stopped)}")
    if report.skipped_live:
        lines.append(f"left alone (their dagstorm still runs): {', '.join(report.skipped_live)}")
    for line in lines:
        # One line each, never wrapped: scripts and tests read them.
        out.print(line, markup=False, soft_wrap=True)
    if report.errors:
        for error in report.errors:
            fail(error)
        raise SystemExit(int(ExitCode.INFRASTRUCTURE))
