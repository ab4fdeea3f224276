"""`dagstorm control`: steer a running run from the shell (the TUI's commands)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click

from dagstorm.cli import cli
from dagstorm.cli.common import handle_errors, out
from dagstorm.control.ack import journal_size, run_end_of, wait_for_ack
from dagstorm.control.client import ControlClient
from dagstorm.core.durations import parse_duration
from dagstorm.core.errors import ControlError, ExitCode, InfrastructureError, UsageError


@cli.command("control")
@click.argument("run_dir", type=click.Path(path_type=Path))  # checked: journal_of
@click.argument("command", type=click.Choice(["pause", "resume", "abort", "inject", "revert"]))
@click.argument("args", nargs=-1)
@click.option("--duration", help="inject: revert the fault after this long (e.g. 30s, 2m).")
@click.option(
    "--wait/--no-wait",
    default=True,
    show_default=True,
    help="Wait for the engine's acknowledgement and exit with its outcome.",
)
@click.option("--timeout", type=float, default=30.0, show_default=True, help="Seconds to wait.")
@handle_errors
def control(
    run_dir: Path,
    command: str,
    args: tuple[str, ...],
    *,
    duration: str | None,
    wait: bool,
    timeout: float,
) -> None:
    """Send a command to a running run through its control inbox (docs/control.md).

    inject takes a fault as KIND key=value… (as `dagstorm fault inject`); revert takes
    a fault id. Exit codes: 0 done, 2 rejected (the reason is printed) or the run
    has ended, 3 failed or no acknowledgement in time.

    \b
    Example:
      dagstorm control runs/20261124T101500Z-soak pause
      dagstorm control runs/20261124T101500Z-soak inject broker action=pause --duration 30s
      dagstorm control runs/20261124T101500Z-soak revert adhoc1
      dagstorm control runs/20261124T101500Z-soak abort
    """
    from dagstorm.analysis.rundata.load import journal_of

    journal_of(run_dir)  # a run directory, or one line and exit 2 (as watch, report, analyze)
    fields = _fields(command, args, duration)
    _refuse_an_ended_run(run_dir, command)
    client = ControlClient(run_dir, client="dagstorm-control")
    start = journal_size(run_dir)
    sent = client.send(command, **fields)
    if not wait:
        out.print(f"sent {command} ({sent.id})", markup=False)
        return
    ack = wait_for_ack(run_dir, sent.id, start=start, timeout=timeout)
    if ack is None:
        _refuse_an_ended_run(run_dir, command, sent=True)
        raise InfrastructureError(
            f"no acknowledgement of {command} ({sent.id}) within {timeout:g} s",
            where=str(run_dir),
            fix="is the run still going? its journal says; --timeout waits longer",
        )
    detail = {k: ack[k] for k in ("fault_id", "reason", "workloads") if k in ack}
    out.print(
        f"{command}: {ack.get('outcome')} {json.dumps(detail) if detail else ''}", markup=False
    )
    if ack.get("outcome") == "rejected":
        raise SystemExit(int(ExitCode.USAGE))
    if ack.get("outcome") != "done":
        raise SystemExit(int(ExitCode.INFRASTRUCTURE))


def _refuse_an_ended_run(run_dir: Path, command: str, *, sent: bool = False) -> None:
    """Exit 2 with the run's end when the run is over: nothing steers it any more."""
    end = run_end_of(run_dir)
    if end is None:
        return
    how = str(end.get("status") or "ended")
    wall = end.get("wall")
    when = f" at {_utc(wall)}" if isinstance(wall, int | float) else ""
    what = "ended before it acknowledged the command" if sent else "has ended"
    raise ControlError(
        f"cannot {command}: the run {what} ({how}{when}); a finished run takes no commands",
        where=str(run_dir),
        fix=f"read it with `dagstorm watch {run_dir}` or its report.html; "
        "start a new run with `dagstorm run SCENARIO`",
    )


def _utc(epoch: float) -> str:
    """An epoch second as ``2026-12-06 17:38:08 UTC``."""
    return datetime.fromtimestamp(epoch, tz=UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def _fields(command: str, args: tuple[str, ...], duration: str | None) -> dict[str, Any]:
    if command == "inject":
        if not args:
            raise UsageError(
                "inject needs a fault: KIND key=value…", fix="e.g. broker action=pause"
            )
        from dagstorm.cli.stack.fault_args import spec_from_args

        spec = spec_from_args(args[0], args[1:])
        fields: dict[str, Any] = {"fault": spec.model_dump(mode="json")}
        if duration is not None:
            try:
                fields["duration_s"] = parse_duration(duration)
            except ValueError as exc:
                raise UsageError(str(exc), where="--duration") from None
        return fields
    if command == "revert":
        if len(args) != 1:
            raise UsageError("revert needs one fault id", fix="see the TUI or the journal")
        return {"fault_id": args[0]}
    if args or duration is not None:
        raise ControlError(
            f"{command} takes no arguments", fix=f"dagstorm control RUN_DIR {command}"
        )
    return {}


__all__ = ["control"]
