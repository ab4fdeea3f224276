"""`dagstorm generate` and the spark-submit helpers: bad input, exit codes, packaging."""

from __future__ import annotations

import json
import socket
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner

from dagstorm.cli import cli
from dagstorm.core.errors import ExitCode, ServiceUnreachableError
from dagstorm.workloads.sinks.ledger import load_ledger
from dagstorm.workloads.spark_backend.submit import (
    JOB,
    SparkOptions,
    check_master,
    master_addresses,
    package_zip,
    submit_argv,
)

SMALL = ["--rate", "5 events/s", "--duration", "1h30m", "--no-fsync"]


def run(args: list[str]) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, ["generate", *args], env={"DAGSTORM_STACK_FILE": ""})
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    assert "Traceback" not in result.output
    return result.exit_code, result.stdout, result.stderr


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_local_backend_writes_partitions_and_ledger(tmp_path: Path) -> None:
    out = tmp_path / "landing"
    code, stdout, stderr = run([*SMALL, "--seed", "4", "--out", str(out), "--json"])
    assert code == ExitCode.OK, stderr
    summary = json.loads(stdout)
    assert summary["partitions"] == 2 == len(list(out.glob("dt=*/hour=*/_SUCCESS")))
    assert "simulated 1h of 1h30m (67%)" in stderr
    ledger = load_ledger(out / "_ledger")
    assert int(ledger["written"].sum()) == summary["records"] > 20_000


def test_an_earlier_data_set_is_not_mixed_with(tmp_path: Path) -> None:
    out = str(tmp_path / "landing")
    assert run([*SMALL, "--out", out])[0] == ExitCode.OK
    code, _, stderr = run([*SMALL, "--out", out])
    assert code == ExitCode.USAGE
    assert "--overwrite" in stderr
    assert run([*SMALL, "--out", out, "--overwrite", "--seed", "9"])[0] == ExitCode.OK


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--rate", "10 furlongs", "--duration", "1h"], "cannot read rate"),
        (["--duration", "soon"], "not a duration"),
        (["--duration", "0"], "must be > 0"),
        (["--duration", "1h", "--chunks-per-hour", "3"], "need --backend spark"),
        (["--duration", "1h", "--workload", "x"], "--workload needs --scenario"),
        (["--duration", "30d"], "GB are free"),
        (["--duration", "1h", "--format", "parquet", "--part-mb", "-1"], "--part-mb"),
    ],
)
def test_bad_input_exits_2_with_one_line(tmp_path: Path, args: list[str], message: str) -> None:
    code, _, stderr = run([*args, "--out", str(tmp_path / "o")])
    assert code == ExitCode.USAGE
    assert message in stderr
    assert len(stderr.strip().splitlines()) == 1


def test_scenario_without_ad_logs_is_a_usage_error(tmp_path: Path) -> None:
    scenario = tmp_path / "s.yaml"
    scenario.write_text("name: s\nduration: 1m\n")
    code, _, stderr = run(["--scenario", str(scenario), "--duration", "1h", "--out", str(tmp_path)])
    assert code == ExitCode.USAGE
    assert "found none" in stderr


def test_unreachable_master_exits_3_before_writing(tmp_path: Path) -> None:
    out = tmp_path / "o"
    master = f"spark://127.0.0.1:{closed_port()}"
    code, _, stderr = run([*SMALL, "--out", str(out), "--backend", "spark", "--master", master])
    assert code == ExitCode.INFRASTRUCTURE
    assert "does not answer" in stderr and master in stderr
    assert not out.exists()


def test_master_addresses() -> None:
    assert master_addresses("spark://a:7077,b:7078") == [("a", 7077), ("b", 7078)]
    assert master_addresses("k8s://https://api.example:6443") == [("api.example", 6443)]
    assert master_addresses("yarn") == []
    with pytest.raises(ValueError, match="spark://host:port"):
        master_addresses("spark://nohost")


def test_check_master_accepts_a_listening_port() -> None:
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        check_master(f"spark://127.0.0.1:{server.getsockname()[1]}")
    with pytest.raises(ServiceUnreachableError):
        check_master(f"spark://127.0.0.1:{closed_port()}", timeout_s=1)


def test_package_zip_holds_the_modules_executors_import(tmp_path: Path) -> None:
    with zipfile.ZipFile(package_zip(tmp_path)) as archive:
        names = set(archive.namelist())
    assert "dagstorm/__init__.py" in names
    assert "dagstorm/workloads/spark_backend/tasks.py" in names
    assert not any("__pycache__" in n or n.endswith(".pyc") for n in names)


def test_submit_argv(tmp_path: Path) -> None:
    options = SparkOptions(
        master="spark://h:1",
        spark_home=tmp_path,
        env={},
        log_path=tmp_path / "log",
        chunks_per_hour=4,
        conf={"spark.executor.memory": "2g"},
    )
    argv = submit_argv(
        options,
        config_path=tmp_path / "c.json",
        zip_path=tmp_path / "d.zip",
        duration_s=7200.0,
        ledger_dir=tmp_path / "l",
    )
    assert argv[:3] == [str(tmp_path / "bin" / "spark-submit"), "--master", "spark://h:1"]
    assert argv[argv.index("--conf") + 1] == "spark.executor.memory=2g"
    assert argv[argv.index("--py-files") + 1] == str(tmp_path / "d.zip")
    assert argv.index("--py-files") < argv.index(str(JOB))
    assert argv[argv.index("--chunks-per-hour") + 1] == "4"


def test_parquet_bytes_are_the_files_and_durations_read_as_durations(tmp_path: Path) -> None:
    out = tmp_path / "landing"
    args = ["--rate", "5 events/s", "--duration", "10m", "--no-fsync", "--format", "parquet"]
    code, stdout, stderr = run([*args, "--out", str(out), "--json"])
    assert code == ExitCode.OK, stderr
    summary = json.loads(stdout)
    on_disk = sum(p.stat().st_size for p in out.glob("dt=*/hour=*/part-*"))
    assert summary["bytes"] == on_disk > 0
    assert summary["mb_per_s"] > 0
    assert "generating 10m simulated into" in stderr
    assert "0.166667" not in stderr
    assert "simulated 10m of 10m (100%)" in stderr


def test_progress_lines_within_a_long_hour(tmp_path: Path) -> None:
    from dagstorm.cli.generate_commands import _ProgressLines, progress_line
    from dagstorm.core.progress import Progress

    event = {"sim_s": 5400.0, "records": 1234, "bytes": 2_500_000, "wall_s": 3.0}
    line = progress_line(event, 21600.0)
    assert line == "simulated 1h30m of 6h (25%): 1,234 records, 2.5 MB, 3.0 s wall"
    stream = (tmp_path / "err.txt").open("w")
    bar: list[float] = []
    lines = _ProgressLines(Progress(stream), 21600.0, bar.append)
    lines.within_hour({**event, "wall_s": 1.0})  # too soon after the start: no line
    lines.within_hour({**event, "wall_s": 6.0})
    lines.within_hour({**event, "sim_s": 6000.0, "wall_s": 7.0})  # a second after: none
    lines.hour({**event, "sim_s": 7200.0, "wall_s": 8.0})  # an hour done: always a line
    stream.close()
    assert (tmp_path / "err.txt").read_text().count("simulated 1h30m of 6h") == 1
    assert (tmp_path / "err.txt").read_text().count("simulated 2h of 6h") == 1
    # The bar moves on every report, a line or not.
    assert bar == [5400.0, 5400.0, 6000.0, 7200.0]


def test_a_meter_without_quarter_lines_prints_only_its_step(tmp_path: Path) -> None:
    from dagstorm.core.progress import Progress

    stream = (tmp_path / "err.txt").open("w")
    with Progress(stream).meter("gen", 100.0, quarter_lines=False) as update:
        for done in (10.0, 30.0, 60.0, 90.0):
            update(done)
    stream.close()
    text = (tmp_path / "err.txt").read_text()
    assert "→ gen …" in text and "✓ gen (" in text and "%" not in text
