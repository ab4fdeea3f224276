"""`dagstorm generate`: pre-generate an ad-log data set, locally or on Spark."""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from dagstorm.cli import cli
from dagstorm.cli.common import Settings, handle_errors, out
from dagstorm.core.durations import duration_text as human_duration
from dagstorm.core.durations import parse_duration
from dagstorm.core.errors import UsageError
from dagstorm.core.progress import Progress

if TYPE_CHECKING:  # the generator pulls numpy and Arrow: imported when the command runs
    from collections.abc import Callable

    from dagstorm.workloads.config import GeneratorConfig
    from dagstorm.workloads.sinks.pregenerate import GenerationSummary
    from dagstorm.workloads.spark_backend.submit import SparkOptions


def _duration(text: str) -> float:
    try:
        seconds = parse_duration(text)
    except ValueError as exc:
        raise UsageError(str(exc), where="--duration") from None
    if seconds <= 0:
        raise UsageError("the simulated period must be > 0", where="--duration", fix="e.g. 6h")
    return seconds


def _spark_conf(items: tuple[str, ...]) -> dict[str, str]:
    conf = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.startswith("spark."):
            raise UsageError(f"bad --spark-conf {item!r}", fix="use spark.key=value")
        conf[key] = value
    return conf


def _echo(settings: Settings, text: str) -> None:
    if not settings.quiet:
        click.echo(text, err=True)


class _ProgressLines:
    """Lines for a long generation: each simulated hour, and every few seconds within one.

    ``advance(simulated seconds written)`` moves the step's bar (a terminal shows
    it) on every report, not only on those that print a line.
    """

    #: Wall seconds between two lines within a simulated hour.
    EVERY_S = 5.0

    def __init__(
        self,
        progress: Progress,
        duration_s: float,
        advance: Callable[[float], None] | None = None,
    ) -> None:
        self.progress = progress
        self.duration_s = duration_s
        self.advance = advance
        self.last_wall_s = 0.0

    def hour(self, event: dict[str, Any]) -> None:
        """A simulated hour (or the end) is written."""
        if self.advance is not None:
            self.advance(event["sim_s"])
        self.progress.info(progress_line(event, self.duration_s))
        self.last_wall_s = event["wall_s"]

    def within_hour(self, event: dict[str, Any]) -> None:
        """Part of an hour is written: a line when the last is a few seconds old."""
        if event["wall_s"] - self.last_wall_s >= self.EVERY_S:
            self.hour(event)
        elif self.advance is not None:
            self.advance(event["sim_s"])


def progress_line(event: dict[str, Any], duration_s: float) -> str:
    """``simulated 1h of 6h (17%): 36,000 records, 12.3 MB, 1.2 s wall``."""
    share = 100.0 * event["sim_s"] / duration_s if duration_s else 100.0
    return (
        f"simulated {human_duration(event['sim_s'])} of {human_duration(duration_s)}"
        f" ({share:.0f}%): {event['records']:,} records, {event['bytes'] / 1e6:,.1f} MB,"
        f" {event['wall_s']:.1f} s wall"
    )


def _spark_options(
    settings: Settings,
    config: GeneratorConfig,
    *,
    master: str | None,
    chunks_per_hour: int,
    ship_package: bool,
    conf: dict[str, str],
    timeout_s: float,
) -> SparkOptions:
    """Master, Spark distribution and environment: the stack's unless --master is given."""
    from dagstorm.stack.embedded.components.spark import spark_env
    from dagstorm.stack.embedded.context import find_spark_home
    from dagstorm.stack.endpoints import resolve_stack
    from dagstorm.workloads.spark_backend.submit import SparkOptions

    if master is None:
        kind = settings.config().kind
        if kind != "embedded":
            raise UsageError(
                f"without --master the Spark backend uses the embedded stack's; this one is {kind}",
                fix="pass --master URL (spark://host:7077, yarn, k8s://https://host:6443)",
            )
        ctx = settings.context()
        master = resolve_stack(ctx.config).endpoint("spark")
        env, spark_home = spark_env(ctx), ctx.spark_home
    else:
        spark_home_env = os.environ.get("SPARK_HOME")
        spark_home = Path(spark_home_env) if spark_home_env else find_spark_home()
        env = {**os.environ}
        env.setdefault("PYSPARK_PYTHON", sys.executable)
        env.setdefault("PYSPARK_DRIVER_PYTHON", sys.executable)
    return SparkOptions(
        master=master,
        spark_home=spark_home,
        env=env,
        log_path=config.landing.root / "_spark" / "spark-submit.log",
        chunks_per_hour=chunks_per_hour,
        ship_package=ship_package,
        conf=conf,
        timeout_s=timeout_s,
    )


def _run_spark(
    settings: Settings,
    config: GeneratorConfig,
    duration_s: float,
    options: SparkOptions,
    *,
    ledger: Path,
) -> GenerationSummary:
    from dagstorm.workloads.sinks.pregenerate import GenerationSummary
    from dagstorm.workloads.spark_backend.submit import run_on_spark

    master, log_path = options.master, options.log_path
    _echo(settings, f"spark: submitting to {master} (log {log_path})")

    def progress(event: dict[str, Any]) -> None:
        kind = event["event"]
        if kind == "session":
            _echo(settings, f"spark: session up in {event['seconds']:.1f} s")
        elif kind == "plan":
            _echo(
                settings,
                f"spark: {event['chunks']} chunk task(s) over {event['hours']} hour(s), "
                f"{event['windows']} batch windows",
            )
        elif kind == "stage":
            _echo(settings, f"spark: {event['stage']} {event['done']}/{event['total']} tasks")
        elif kind == "stage1":
            _echo(settings, f"spark: stage 1 (carried funnel) {event['seconds']:.1f} s")
        elif kind == "stage2":
            _echo(settings, f"spark: stage 2 (part files) {event['seconds']:.1f} s")
        elif kind == "partition":
            _echo(settings, f"  {event['partition']}: {event['records']:,} records, _SUCCESS")

    started = time.monotonic()
    events = run_on_spark(config, duration_s, options, ledger_dir=ledger, on_progress=progress)
    done = events["done"]
    return GenerationSummary(
        partitions=done["partitions"],
        records=done["records"],
        bytes=done["bytes"],
        wall_s=time.monotonic() - started,
        details={"session_s": events["session"]["seconds"], **done},
    )


@cli.command("generate")
@click.option(
    "--scenario",
    type=click.Path(path_type=Path),
    help="Take the model from this scenario's ad_logs workload.",
)
@click.option("--workload", help="Which ad_logs workload of --scenario (when it has several).")
@click.option("--rate", help="e.g. 2TB/day, 50k events/s (default: the scenario's, else 2TB/day).")
@click.option("--scale", help="e.g. 1/2000 or 0.01.")
@click.option(
    "--seed", type=int, help="Same seed, same data set (default: the scenario's, else 0)."
)
@click.option("--start", help="Simulated start, ISO-8601 with a zone (default 2026-01-05T00:00Z).")
@click.option("--duration", "duration_text", required=True, help="Simulated period, e.g. 6h, 1d.")
@click.option("--format", "fmt", type=click.Choice(["jsonl", "parquet"]), help="Part file format.")
@click.option(
    "--out",
    "out_dir",
    type=click.Path(path_type=Path),
    required=True,
    help="Landing root (partitions dt=…/hour=…).",
)
@click.option(
    "--ledger", type=click.Path(path_type=Path), help="Ledger directory (default OUT/_ledger)."
)
@click.option("--part-mb", type=float, help="Roll part files at this many MB (default 128 MiB).")
@click.option("--no-fsync", is_flag=True, help="Skip fsyncs (never the rename order).")
@click.option(
    "--overwrite", is_flag=True, help="Delete partitions and ledger of an earlier run first."
)
@click.option(
    "--backend", type=click.Choice(["local", "spark"]), default="local", show_default=True
)
@click.option("--master", help="Spark master URL (default: the stack's); spark://, yarn, k8s://…")
@click.option(
    "--chunks-per-hour",
    type=click.IntRange(1, 100),
    default=1,
    show_default=True,
    help="Spark tasks per partition hour (1: byte-identical to local).",
)
@click.option("--spark-conf", multiple=True, help="Extra spark.key=value (repeatable).")
@click.option(
    "--ship-package/--no-ship-package",
    default=True,
    show_default=True,
    help="Ship dagstorm to executors as a --py-files zip.",
)
@click.option(
    "--timeout",
    "timeout_text",
    default="24h",
    show_default=True,
    help="Give up on the Spark job after this long.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
@click.pass_obj
@handle_errors
def generate(
    settings: Settings,
    *,
    scenario: Path | None,
    workload: str | None,
    rate: str | None,
    scale: str | None,
    seed: int | None,
    start: str | None,
    duration_text: str,
    fmt: str | None,
    out_dir: Path,
    ledger: Path | None,
    part_mb: float | None,
    no_fsync: bool,
    overwrite: bool,
    backend: str,
    master: str | None,
    chunks_per_hour: int,
    spark_conf: tuple[str, ...],
    ship_package: bool,
    timeout_text: str,
    as_json: bool,
) -> None:
    """Pre-generate ad logs into a landing zone, with the ledger, as fast as possible.

    Same config and seed give the same data set with either backend
    (docs/workloads.md#the-spark-backend). Exit 2 on bad settings, 3 when the
    Spark master does not answer or the job fails.

    \b
    Example:
      dagstorm generate --scale 1/2000 --duration 6h --out /data/ad_logs
      dagstorm generate --scenario scenarios/soak.yaml --duration 1d \\
          --out /data/ad_logs --backend spark --chunks-per-hour 8
    """
    from dagstorm.scenarios.generator_source import source_from_scenario
    from dagstorm.workloads.sinks.pregenerate import build_config, generate_local, prepare_output
    from dagstorm.workloads.spark_backend.submit import check_master

    duration_s = _duration(duration_text)
    timeout_s = _duration(timeout_text)
    if backend == "local" and (master or chunks_per_hour != 1 or spark_conf):
        raise UsageError("--master, --chunks-per-hour and --spark-conf need --backend spark")
    if workload and not scenario:
        raise UsageError("--workload needs --scenario")
    source: dict[str, Any] = source_from_scenario(scenario, workload) if scenario else {}
    flags = {"rate": rate, "scale": scale, "seed": seed, "start": start, "format": fmt}
    source.update({k: v for k, v in flags.items() if v is not None})
    landing: dict[str, Any] = {"fsync": not no_fsync}
    if part_mb is not None:
        if part_mb <= 0:
            raise UsageError("--part-mb must be > 0", where="--part-mb")
        landing["part_max_bytes"] = max(1, int(part_mb * 1024 * 1024))
    config = build_config(source, root=out_dir, landing=landing)
    ledger_dir = (ledger or config.landing.root / "_ledger").resolve()
    options = None
    if backend == "spark":
        options = _spark_options(
            settings,
            config,
            master=master,
            chunks_per_hour=chunks_per_hour,
            ship_package=ship_package,
            conf=_spark_conf(spark_conf),
            timeout_s=timeout_s,
        )
        check_master(options.master)
    prepare_output(config, ledger_dir, duration_s, overwrite=overwrite)
    title = f"generating {human_duration(duration_s)} simulated into {config.landing.root}"
    if options is not None:
        _echo(settings, title)
        summary = _run_spark(settings, config, duration_s, options, ledger=ledger_dir)
    else:
        progress = Progress(quiet=settings.quiet)
        # A bar on a terminal; in CI logs the hour lines say as much (no quarter lines).
        with progress.meter(
            title, duration_s, unit="simulated h", per_unit=3600.0, quarter_lines=False
        ) as advance:
            report = _ProgressLines(progress, duration_s, advance)
            summary = generate_local(
                config,
                duration_s,
                ledger_dir=ledger_dir,
                on_hour=report.hour,
                on_progress=report.within_hour,
            )
    result = {
        "backend": backend,
        "out": str(config.landing.root),
        "ledger": str(ledger_dir),
        "partitions": summary.partitions,
        "records": summary.records,
        "bytes": summary.bytes,
        "wall_s": round(summary.wall_s, 3),
        "records_per_s": round(summary.records / max(summary.wall_s, 1e-9)),
        "mb_per_s": round(summary.bytes / 1e6 / max(summary.wall_s, 1e-9), 2),
        **{k: v for k, v in summary.details.items() if k.endswith("_s")},
    }
    if as_json:
        click.echo(json.dumps(result))
    else:
        out.print(
            f"{backend}: {summary.partitions} partition(s), {summary.records:,} records, "
            f"{summary.bytes / 1e6:,.1f} MB in {summary.wall_s:.1f} s wall "
            f"({result['records_per_s']:,} records/s, {result['mb_per_s']} MB/s); "
            f"ledger {ledger_dir}",
            markup=False,
        )
