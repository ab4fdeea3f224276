"""`dagstorm history` (list and add runs) and `dagstorm compare RUN_A RUN_B`."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click
from rich.table import Table

from dagstorm.cli import cli
from dagstorm.cli.common import TOLERANCE, handle_errors, out
from dagstorm.core.errors import ExitCode

if TYPE_CHECKING:
    from dagstorm.analysis.outputs.executor_compare import ExecutorComparison

_HISTORY_HELP = "History file (default: RUNS_DIR/history.jsonl; env DAGSTORM_HISTORY)."


def _history_path(runs_dir: Path, history: Path | None) -> Path:
    from dagstorm.analysis.outputs.history import default_history_path

    return default_history_path(runs_dir, history)


@cli.group("history", invoke_without_command=True)
@click.option("--history", "history", type=click.Path(path_type=Path), help=_HISTORY_HELP)
@click.option(
    "--runs-dir", type=click.Path(path_type=Path), default=Path("runs"), show_default=True
)
@click.option("--scenario", help="Only the runs of this scenario.")
@click.option("-n", "--last", type=click.IntRange(min=1), default=20, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="One JSON object a line, as stored.")
@click.pass_context
@handle_errors
def history(
    ctx: click.Context,
    *,
    history: Path | None,
    runs_dir: Path,
    scenario: str | None,
    last: int,
    as_json: bool,
) -> None:
    """List the recorded runs, newest last (docs/trends.md).

    `dagstorm run` and `dagstorm nightly` append one line per finished run.

    \b
    Example:
      dagstorm history --scenario smoke -n 10
      dagstorm history add runs/20261124T041804Z-smoke
    """
    ctx.ensure_object(dict)
    ctx.meta["history_path"] = _history_path(runs_dir, history)
    if ctx.invoked_subcommand is not None:
        return
    from dagstorm.analysis.outputs.headline import HEADLINES, value_text
    from dagstorm.analysis.outputs.history import read_history

    path = ctx.meta["history_path"]
    recorded = read_history(path)
    entries = [e for e in recorded if scenario is None or e.scenario == scenario]
    entries = entries[-last:]
    if as_json:
        for entry in entries:
            click.echo(json.dumps(entry.document(), sort_keys=False))
        return
    if not entries:
        if recorded:  # runs exist, just none of that scenario: say which ones do
            names = sorted({e.scenario for e in recorded})
            out.print(
                f"no run of scenario {scenario!r} in {path}; it has runs of: {', '.join(names)}",
                markup=False,
                soft_wrap=True,
            )
        else:
            out.print(f"no run recorded in {path}", markup=False)
        return
    shown = ("sla_compliance", "recovery_p95_sim_s", "throughput_per_min")
    table = Table(title=f"{path}: {len(entries)} run(s)", title_justify="left")
    for column in ("started (UTC)", "scenario", "verdict", "score", *shown):
        table.add_column(column)
    table.add_column(
        "run", no_wrap=True, overflow="fold", min_width=len(max((e.run for e in entries), key=len))
    )
    specs = {s.name: s for s in HEADLINES}
    for e in entries:
        table.add_row(
            e.started_at[:19],
            e.scenario,
            "PASS" if e.passed else f"FAIL ({e.exit_code})",
            value_text(specs["score"], e.measures.get("score")),
            *(value_text(specs[n], e.measures.get(n)) for n in shown),
            e.run,
        )
    # The run column is never cut: its names are pasted into `report`, `compare`, `watch`.
    out.print(table, soft_wrap=True, crop=False)


@history.command("add")
@click.argument("run_dirs", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.pass_context
@handle_errors
def history_add(ctx: click.Context, run_dirs: tuple[Path, ...]) -> None:
    """Record already-analysed runs (their result.json) in the history file.

    \b
    Example:
      dagstorm history add runs/*-smoke
    """
    from dagstorm.harness.flow import record_history

    for run_dir in run_dirs:
        record_history(run_dir, ctx.meta["history_path"])
        click.echo(f"recorded {run_dir} in {ctx.meta['history_path']}")


@cli.command("compare")
@click.argument("run_a", type=click.Path(path_type=Path, exists=True, file_okay=False))
@click.argument("run_b", type=click.Path(path_type=Path, exists=True, file_okay=False))
@click.option(
    "--tolerance",
    "tolerances",
    multiple=True,
    type=TOLERANCE,
    metavar="NAME=VALUE",
    help="Override a measure's tolerance: absolute (0.02) or relative (25%). Repeatable.",
)
@click.option("--json", "as_json", is_flag=True, help="The comparison as JSON.")
@handle_errors
def compare(run_a: Path, run_b: Path, tolerances: tuple[str, ...], as_json: bool) -> None:
    """Compare RUN_B with RUN_A (the baseline): headline measures, deltas, regressions.

    Then each run's executor and, side by side, task instances finished per minute,
    queued → running p50/p95/p99, SLA per DAG and recovery per fault (not judged).

    Exit codes: 0 no measure regressed beyond its tolerance, 1 at least one did,
    2 usage (a directory that is not a run, a bad tolerance).

    \b
    Example:
      dagstorm compare runs/20261123T010000Z-smoke runs/20261124T010000Z-smoke
      dagstorm compare A B --tolerance sla_compliance=0.05 --tolerance score=10
    """
    from dagstorm.analysis.outputs.compare import compare_measures, parse_tolerances
    from dagstorm.analysis.outputs.executor_compare import executor_comparison
    from dagstorm.analysis.outputs.headline import value_text
    from dagstorm.harness.baseline import baseline_of_document, run_document

    chosen = parse_tolerances(tolerances)
    doc_a, doc_b = run_document(run_a), run_document(run_b)
    a = baseline_of_document(run_a, doc_a, chosen)
    b = baseline_of_document(run_b, doc_b, chosen)
    comparison = compare_measures(a.measures, b.measures, chosen)
    sides = executor_comparison(doc_a, doc_b)
    if as_json:
        rows = [
            {
                "name": r.spec.name,
                "a": r.baseline,
                "b": r.candidate,
                "delta": r.delta,
                "tolerance": r.tolerance.text,
                "regressed": r.regressed,
                "note": r.note,
            }
            for r in comparison.rows
        ]
        document = {"a": a.run, "b": b.run, "measures": rows, "side_by_side": sides.document()}
        click.echo(json.dumps(document, indent=2))
    else:
        title = f"A = {a.run} ({a.scenario})  vs  B = {b.run} ({b.scenario})"
        table = Table(title=title, title_justify="left")
        for column in ("measure", "A", "B", "Δ", "tolerance", ""):
            table.add_column(column)
        for r in comparison.rows:
            delta = "" if r.delta_pct is None else f"{r.delta_pct:+.1f}%"
            table.add_row(
                r.spec.label,
                value_text(r.spec, r.baseline),
                value_text(r.spec, r.candidate),
                delta,
                r.tolerance.text,
                f"REGRESSION: {r.note}" if r.regressed else r.note,
            )
        out.print(table)
        out.print(side_by_side_table(sides, a.run, b.run))
        n = len(comparison.regressions)
        out.print(f"{n} regression(s) beyond tolerance" if n else "no regression", markup=False)
    if a.scenario != b.scenario:
        click.echo(
            f"dagstorm: warning: comparing different scenarios ({a.scenario} vs {b.scenario})",
            err=True,
        )
    sys.exit(int(ExitCode.SLO_FAILED if comparison.regressions else ExitCode.OK))


def side_by_side_table(sides: ExecutorComparison, run_a: str, run_b: str) -> Table:
    """The executor row and throughput, queued → running, SLA, recovery of A and B."""
    from dagstorm.analysis.outputs.executor_compare import side_value_text

    note = "different executors" if sides.differ else "same executor"
    table = Table(title=f"side by side ({note})", title_justify="left")
    for column in ("measure", f"A ({run_a})", f"B ({run_b})"):
        table.add_column(column)
    table.add_row("executor", sides.executor_a, sides.executor_b)
    for row in sides.rows:
        table.add_row(
            row.label,
            side_value_text(row.unit, row.a, row.missing_a),
            side_value_text(row.unit, row.b, row.missing_b),
        )
    return table


__all__ = ["compare", "history", "history_add", "side_by_side_table"]
