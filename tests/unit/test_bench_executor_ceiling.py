"""bench/executor_ceiling.py: options, conditions, their order, configs, the restore, figures."""

from __future__ import annotations

import contextlib
import importlib
import importlib.util
import json
import signal
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import ModuleType, SimpleNamespace
from typing import Any, ClassVar

import pytest
import yaml

from dagstorm.scenarios.loader import load_scenario
from dagstorm.stack.config import load_stack_config
from dagstorm.workloads.specs import TriggerStormWorkload

ROOT = Path(__file__).parents[2]


def _load(name: str) -> ModuleType:
    if str(ROOT / "bench") not in sys.path:
        sys.path.insert(0, str(ROOT / "bench"))  # the script imports its helpers by name
    if name in sys.modules:  # one module object per helper: its dataclasses stay the same
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, ROOT / "bench" / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


bench = _load("executor_ceiling")
figures = _load("executor_ceiling_figures")
stack_side = _load("executor_ceiling_stack")
fleet_figures = importlib.import_module("scheduler_fleet_figures")
fleet_stack = importlib.import_module("scheduler_fleet_stack")  # end_leftovers lives there

L = figures.Condition("local")
C1 = figures.Condition("celery", 1)
C2 = figures.Condition("celery", 2)


# --- options and conditions ----------------------------------------------------------


def test_defaults() -> None:
    s = bench.parse_args([])
    assert s.conditions == (L, C1, C2) and s.labels == ["local", "celery-1", "celery-2"]
    assert (s.rounds, s.duration_s, s.rate, s.max_total) == (2, 240, 2.0, 480)
    assert s.dags == ("scheduler_bench_000", "scheduler_bench_001")
    assert (s.drain_s, s.quiet_s, s.cleanup_s) == (60, 240, 300)
    assert s.stack_file is None and s.runs_dir == Path("runs")
    assert not s.markdown and s.json_path is None


def test_options_are_read() -> None:
    s = bench.parse_args(
        [
            *("--configs", "celery:2, local", "--rounds", "3", "--duration", "120"),
            *("--rate", "5", "--max-total", "100", "--drain", "30", "--quiet-wait", "0"),
            *("--cleanup", "60", "--stack-file", "/tmp/s.yaml", "--markdown"),
            *("--json", "/tmp/f.json", "--runs-dir", "/tmp/r"),
        ]
    )
    assert s.conditions == (C2, L)
    assert (s.rounds, s.duration_s, s.rate, s.max_total) == (3, 120, 5.0, 100)
    assert (s.drain_s, s.quiet_s, s.cleanup_s) == (30, 0, 60)
    assert s.stack_file == Path("/tmp/s.yaml") and s.json_path == Path("/tmp/f.json")


@pytest.mark.parametrize(
    "args",
    [
        ["--configs", "local,kubernetes"],
        ["--configs", "celery:0"],
        ["--configs", "celery:17"],
        ["--configs", "celery"],
        ["--configs", "local,local"],
        ["--configs", ","],
        ["--rounds", "0"],
        ["--rounds", "7"],
        ["--duration", "59"],
        ["--rate", "0"],
        ["--rate", "30", "--duration", "900"],  # 27,000 triggers a DAG: over the bound
        ["--dags", "a,a"],
        ["--drain", "601"],
        ["--quiet-wait", "901"],
        ["--cleanup", "5"],
    ],
)
def test_out_of_bounds_options_are_usage_errors(
    args: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exited:
        bench.parse_args(args)
    assert exited.value.code == 2
    assert "error:" in capsys.readouterr().err


def test_conditions_parse_label_and_count_slots() -> None:
    assert figures.parse_conditions(" Local , celery:1,CELERY:12") == (
        L,
        C1,
        figures.Condition("celery", 12),
    )
    assert [c.label for c in (L, C1, C2)] == ["local", "celery-1", "celery-2"]
    # Airflow's parallelism caps every executor; Celery also workers x concurrency
    assert [c.slots(8, 4) for c in (L, C1, C2)] == [8, 4, 8]
    assert [c.slots(32, 4) for c in (L, C1, C2)] == [32, 4, 8]


def test_rounds_alternate_the_order_and_share_their_boundary_condition() -> None:
    steps = figures.plan((L, C1, C2), 3)
    assert [(r, c.label) for r, c in steps] == [
        (1, "local"), (1, "celery-1"), (1, "celery-2"),
        (2, "celery-2"), (2, "celery-1"), (2, "local"),
        (3, "local"), (3, "celery-1"), (3, "celery-2"),
    ]  # fmt: skip
    assert figures.switches(steps) == 7  # round 2 starts, round 3 starts where one ended
    assert figures.switches(figures.plan((C1,), 4)) == 1
    assert figures.plan((L, C1), 0) == []


def test_the_scenario_is_a_valid_bounded_storm_named_for_the_leftover_cleanup(
    tmp_path: Path,
) -> None:
    settings = bench.parse_args(["--duration", "120", "--rate", "3", "--drain", "45"])
    path = tmp_path / "s.yaml"
    path.write_text(bench.scenario_text(settings))
    scenario = load_scenario(path, env={}, pipeline=False).scenario
    assert scenario.duration == 120 and scenario.drain == 45 and scenario.faults == []
    assert scenario.probes.airflow_dags == list(settings.dags)
    storms = [w for w in scenario.workloads if isinstance(w, TriggerStormWorkload)]
    assert [w.dag for w in storms] == list(settings.dags)
    assert all(w.name.startswith(stack_side.STORM_PREFIX) for w in storms)
    assert all(w.rate == 3 and w.max_total == 360 and w.duration == 120 for w in storms)
    assert len({w.name for w in storms}) == len(storms)


def test_expected_wall_time_of_the_defaults() -> None:
    typical, bound = bench.expected_wall_s(bench.parse_args([]))
    assert 6 * 240 < typical < bound  # six runs of a 240 s storm, then the rest
    assert 45 * 60 <= typical <= 60 * 60  # what docs/benchmarks.md tells the lead
    assert bound <= 3 * 3600
    one, one_bound = bench.expected_wall_s(bench.parse_args(["--rounds", "1"]))
    assert one < typical and one_bound < bound


# --- the condition's stack config ----------------------------------------------------


def user_config(tmp_path: Path) -> Any:
    folder = tmp_path / "checkout"
    folder.mkdir()
    path = folder / "dagstorm.stack.yaml"
    path.write_text(
        yaml.safe_dump(
            {
                "state_dir": "state",
                "ports": {"airflow_api": 18088, "redis": 16390},
                "spark": {"worker_cores": 3},
                "airflow": {"executor": "celery", "parallelism": 12, "pipelines": ["fleet"]},
                "celery": {"workers": 3, "concurrency": 5, "worker_hosts": True},
                "fault_targets": ["kafka", "airflow-scheduler"],
            }
        )
    )
    return load_stack_config(path, env={})


@pytest.mark.parametrize(
    ("condition", "workers"), [(L, 3), (C1, 1), (C2, 2)], ids=["local", "celery-1", "celery-2"]
)
def test_a_condition_config_keeps_the_users_keys_and_sets_the_executor(
    tmp_path: Path, condition: Any, workers: int
) -> None:
    base = user_config(tmp_path)
    out = tmp_path / "bench"
    out.mkdir()
    config = stack_side.write_condition_config(base, condition, out)
    assert (out / f"{condition.label}.stack.yaml").is_file()
    assert config.airflow.executor == condition.executor
    assert config.celery.workers == workers  # local leaves the user's number alone
    assert config.celery.worker_hosts is False
    # every other key as the user set it; the same state directory (the same stack)
    assert config.state_dir == base.state_dir == tmp_path / "checkout" / "state"
    assert config.ports == base.ports and config.ports.airflow_api == 18088
    assert config.spark.worker_cores == 3 and config.celery.concurrency == 5
    assert config.airflow.parallelism == 12 and config.airflow.pipelines == ["fleet"]
    assert config.fault_targets == ("kafka", "airflow-scheduler")
    assert base.airflow.executor == "celery" and base.celery.worker_hosts  # base untouched


def test_the_slots_line_says_the_concurrency_and_its_default(tmp_path: Path) -> None:
    line = bench.slots_line(user_config(tmp_path), (L, C1, C2))
    assert "celery.concurrency 5 (its default: 4)" in line
    assert "airflow.parallelism 12" in line
    assert line.endswith("task slots local 12, celery-1 5, celery-2 10")


# --- the rounds and the restore ------------------------------------------------------


class FakeStack:
    """The executor switch, recording what was asked; ``fail_switch`` makes a switch raise."""

    def __init__(self, fail_switch: str | None = None) -> None:
        self.calls: list[str] = []
        self.current: str = "user"
        self.fail_switch = fail_switch

    def switch(self, condition: Any) -> None:
        self.calls.append(f"switch {condition.label}")
        if condition.label == self.fail_switch:
            raise RuntimeError("stack up failed")
        self.current = condition.label

    def restore(self) -> None:
        # The restore is not cut short by Ctrl-C or SIGTERM.
        assert signal.getsignal(signal.SIGINT) is signal.SIG_IGN
        assert signal.getsignal(signal.SIGTERM) is signal.SIG_IGN
        self.calls.append("restore")
        self.current = "user"


def runner(stack: FakeStack, fail_at: int | None = None) -> Any:
    seen: list[tuple[int, str, str]] = []

    def run_one(round_no: int, condition: Any) -> Any:
        seen.append((round_no, condition.label, stack.current))
        if fail_at is not None and len(seen) == fail_at:
            raise KeyboardInterrupt
        return (round_no, condition.label)

    return run_one, seen


def test_each_run_sees_its_condition_and_the_users_config_comes_back() -> None:
    stack = FakeStack()
    run_one, seen = runner(stack)
    steps = figures.plan((L, C1, C2), 2)
    said: list[str] = []
    handler = signal.getsignal(signal.SIGINT)
    done = bench.run_rounds(steps, stack, run_one, said.append, [])
    assert done == [(r, c.label) for r, c in steps]
    assert all(label == current for _, label, current in seen)
    assert stack.calls == [
        "switch local", "switch celery-1", "switch celery-2",
        "switch celery-1", "switch local", "restore",
    ]  # fmt: skip
    assert stack.current == "user" and said[-1].startswith("restoring")
    assert "run 4/6: round 2 celery-2, 0 min in" in said
    assert signal.getsignal(signal.SIGINT) is handler  # handlers back after the restore


def test_an_interrupted_bench_restores_the_users_config_and_keeps_the_finished_runs() -> None:
    stack = FakeStack()
    run_one, seen = runner(stack, fail_at=3)
    done: list[Any] = []
    with pytest.raises(KeyboardInterrupt):
        bench.run_rounds(figures.plan((L, C1, C2), 2), stack, run_one, lambda _: None, done)
    assert len(seen) == 3
    assert done == [(1, "local"), (1, "celery-1")]
    assert stack.calls[-1] == "restore" and stack.current == "user"


def test_a_failed_switch_still_restores() -> None:
    stack = FakeStack(fail_switch="celery-1")
    run_one, seen = runner(stack)
    with pytest.raises(RuntimeError):
        bench.run_rounds(figures.plan((L, C1, C2), 1), stack, run_one, lambda _: None, [])
    assert [label for _, label, _ in seen] == ["local"]
    assert stack.calls == ["switch local", "switch celery-1", "restore"]


# --- the figures ---------------------------------------------------------------------


def fake(round_no: int, condition: str, *, per_min: float, p95: float | None = 3.0) -> Any:
    tries = fleet_figures.TriesFigures(int(per_min * 4), per_min, 1.0, p95)
    none = fleet_figures.TriesFigures(0, 0.0, None, None)
    return fleet_figures.RunFigures(
        round=round_no, condition=condition, run_dir=f"{round_no}-{condition}",
        status="completed", bench=tries, all=tries, fleet=none,
        dagstorm_bench_per_min=per_min - 10, dagstorm_queued_p50_s=None,
        dagstorm_queued_p95_s=None, loop_p50_ms=100.0, loop_p95_ms=300.0, loop_intervals=48,
    )  # fmt: skip


LABELS = ["local", "celery-1", "celery-2"]
RUNS = [
    fake(1, "local", per_min=300),
    fake(1, "celery-1", per_min=150, p95=30.0),
    fake(1, "celery-2", per_min=240),
    fake(2, "celery-2", per_min=280, p95=None),  # no start in the window: left out
    fake(2, "celery-1", per_min=170, p95=50.0),
    fake(2, "local", per_min=340),
]


def test_summary_medians_per_condition_and_ratios_vs_local() -> None:
    rows = {r.label: r for r in figures.summary(RUNS, LABELS)}
    ceiling = rows["ceiling: bench tries finished / min (SQL)"]
    assert ceiling.medians == {"local": 320.0, "celery-1": 160.0, "celery-2": 260.0}
    assert ceiling.ratio("celery-1") == pytest.approx(0.5)
    assert ceiling.ratio("celery-2") == pytest.approx(260 / 320)
    p95 = rows["bench queued → running p95 (SQL)"]
    assert p95.medians == {"local": 3.0, "celery-1": 40.0, "celery-2": 3.0}
    assert p95.ratio("celery-1") == pytest.approx(40 / 3)
    missing = rows["bench queued → running p95 (dagstorm)"]
    assert missing.medians == dict.fromkeys(LABELS) and missing.ratio("celery-1") is None
    zero = figures.SummaryRow("x", "/min", {"local": 0.0, "celery-1": 5.0})
    assert zero.ratio("celery-1") is None  # local is 0: no ratio
    assert len(rows) == len(figures.FIGURES)


def test_markdown_tables() -> None:
    table = figures.summary_table(figures.summary(RUNS, LABELS), LABELS)
    text = fleet_figures.render(table, markdown=True).splitlines()
    assert text[0] == (
        "| figure | local | celery-1 | celery-2 | celery-1 ÷ local | celery-2 ÷ local |"
    )
    assert text[1] == "|---|---:|---:|---:|---:|---:|"
    assert (
        "| ceiling: bench tries finished / min (SQL) | 320.0/min | 160.0/min | 260.0/min"
        " | × 0.50 | × 0.81 |"
    ) in text
    assert len(text) == 2 + len(figures.FIGURES)
    without_local = figures.summary_table(figures.summary(RUNS, ["celery-1"]), ["celery-1"])
    assert without_local[0] == ["figure", "celery-1"]  # nothing to divide by
    per_run = fleet_figures.render(figures.rounds_table(RUNS), markdown=True).splitlines()
    assert len(per_run) == 2 + len(RUNS)
    assert per_run[2].startswith("| 1 | local | 1-local | completed | 300.0 |")


def test_report_and_json(tmp_path: Path) -> None:
    settings = bench.parse_args(["--markdown"])
    text = bench.report(RUNS, settings)
    assert "median over 2 round(s):" in text and "| celery-2 ÷ local |" in text
    body = json.loads(figures.as_json(RUNS, LABELS, bench.settings_json(settings)))
    assert body["settings"]["configs"] == LABELS and body["settings"]["max_total"] == 480
    assert len(body["runs"]) == 6 and "fleet" not in body["runs"][0]
    assert body["runs"][0]["bench"]["per_min"] == 300
    ceiling = body["summary"][0]
    assert ceiling["medians"]["local"] == 320.0
    assert ceiling["ratio_vs_local"]["celery-1"] == pytest.approx(0.5)
    assert "local" not in ceiling["ratio_vs_local"]


# --- the stack side, on fakes of the database and the REST API -------------------------


class FakeDb:
    """Answers the bench's queries from canned rows; records every query."""

    leftovers: ClassVar[list[tuple[str, str]]] = []
    tries: ClassVar[list[tuple[Any, ...]]] = []
    queries: ClassVar[list[tuple[str, dict[str, Any]]]] = []

    def __init__(self, ctx: Any) -> None:
        self.ctx = ctx

    def rows(self, query: str, params: dict[str, Any] | None = None) -> list[tuple[Any, ...]]:
        FakeDb.queries.append((query, params or {}))
        if query is fleet_stack.LEFTOVERS_SQL:
            return list(FakeDb.leftovers)
        if query is stack_side.TRIES_SQL:
            return list(FakeDb.tries)
        return []  # SELECT 1, nothing busy


class FakeDagRunApi:
    """Records the PATCHes; a run id in ``statuses`` answers with that HTTP error."""

    patched: ClassVar[list[tuple[str, str, str]]] = []
    statuses: ClassVar[dict[str, int]] = {}
    #: Run id → the errors its next PATCHes answer with, one per call, then success.
    failing: ClassVar[dict[str, list[int]]] = {}
    calls: ClassVar[list[str]] = []

    def __init__(self, client: Any) -> None:
        pass

    def patch_dag_run(self, dag_id: str, run_id: str, body: Any, **_: Any) -> None:
        FakeDagRunApi.calls.append(run_id)
        if run_id in FakeDagRunApi.statuses:
            raise fleet_stack.ApiException(status=FakeDagRunApi.statuses[run_id])
        if FakeDagRunApi.failing.get(run_id):
            raise fleet_stack.ApiException(status=FakeDagRunApi.failing[run_id].pop(0))
        FakeDagRunApi.patched.append((dag_id, run_id, body.state.value))


@pytest.fixture
def fake_stack(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    FakeDb.leftovers, FakeDb.tries, FakeDb.queries = [], [], []
    FakeDagRunApi.patched, FakeDagRunApi.statuses = [], {}
    FakeDagRunApi.failing, FakeDagRunApi.calls = {}, []
    monkeypatch.setattr(fleet_stack.time, "sleep", lambda _: None)
    monkeypatch.setattr(stack_side, "MetadataDb", FakeDb)
    monkeypatch.setattr(fleet_stack, "DagRunApi", FakeDagRunApi)
    monkeypatch.setattr(fleet_stack, "api_client", lambda _: contextlib.nullcontext(object()))
    monkeypatch.setattr(fleet_stack, "resolve_stack", lambda config: config)
    said: list[str] = []
    bench_stack = stack_side.ExecutorStack(
        base=user_config(tmp_path),
        folder=tmp_path,
        scenario=tmp_path / "s.yaml",
        dags=("scheduler_bench_000",),
        runs_dir=tmp_path / "runs",
        quiet_s=0,
        cleanup_s=60,
        say=said.append,
    )
    return bench_stack, said


def test_leftover_runs_of_the_storm_are_set_failed(fake_stack: Any) -> None:
    bench_stack, _ = fake_stack
    FakeDb.leftovers = [("scheduler_bench_000", f"r{i}") for i in range(4)]
    FakeDagRunApi.statuses = {"r1": 409, "r2": 404}  # ended meanwhile: nothing to do
    assert bench_stack.end_leftovers() == 4
    assert FakeDagRunApi.patched == [
        ("scheduler_bench_000", "r0", "failed"),
        ("scheduler_bench_000", "r3", "failed"),
    ]
    query, params = FakeDb.queries[-1]
    assert query is fleet_stack.LEFTOVERS_SQL
    assert params["dags"] == ["scheduler_bench_000"]
    assert params["marker"] == "__" + stack_side.STORM_PREFIX
    FakeDb.leftovers = []
    assert bench_stack.end_leftovers() == 0


def test_a_client_error_stops_the_cleanup(fake_stack: Any) -> None:
    bench_stack, _ = fake_stack
    FakeDb.leftovers = [("scheduler_bench_000", "r0"), ("scheduler_bench_000", "r1")]
    FakeDagRunApi.statuses = {"r0": 403}
    with pytest.raises(fleet_stack.ApiException):
        bench_stack.end_leftovers()
    assert FakeDagRunApi.patched == []


def test_a_server_error_is_tried_again_and_at_worst_left_with_a_warning(fake_stack: Any) -> None:
    # Airflow answers 500 "Database error" when the scheduler holds the run's row (a
    # deadlock PostgreSQL broke): the executor bench stopped on it after its first run.
    bench_stack, said = fake_stack
    FakeDb.leftovers = [("scheduler_bench_000", f"r{i}") for i in range(3)]
    FakeDagRunApi.failing = {"r0": [500]}  # once, then it goes through
    FakeDagRunApi.statuses = {"r1": 500}  # every time: left to finish by itself
    assert bench_stack.end_leftovers() == 2
    assert [r for _, r, _ in FakeDagRunApi.patched] == ["r0", "r2"]
    assert FakeDagRunApi.calls.count("r1") == fleet_stack.PATCH_ATTEMPTS
    assert said[-1] == (
        "warning: 1 leftover run(s) refused by the API after 3 attempts, left to finish: r1 (500)"
    )


def test_a_run_is_measured_from_sql_and_its_leftovers_ended(
    fake_stack: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bench_stack, said = fake_stack
    run_dir = tmp_path / "runs" / "20261207T030000Z-executor-ceiling-bench"
    run_dir.mkdir(parents=True)
    result = {
        "run": {"started_at": "2026-12-07T03:00:00Z", "status": "failed"},
        "scenario": {"duration_s": 120.0},
        "measures": {"throughput": {"median_finished_per_min": 55.0}},
    }
    (run_dir / "result.json").write_text(json.dumps(result))
    (run_dir / "journal.jsonl").write_text("")
    asked: list[Any] = []

    def run_scenario(scenario: Path, **kwargs: Any) -> Any:
        asked.append(kwargs["stack"])
        return SimpleNamespace(status="failed", run_dir=run_dir)

    monkeypatch.setattr(stack_side, "run_scenario", run_scenario)
    begin = datetime(2026, 12, 7, 3, 0, tzinfo=UTC)
    FakeDb.tries = [  # 3 finished in the 2 min window, one after it
        ("scheduler_bench_000", "success", begin, begin + timedelta(seconds=s), begin
         + timedelta(seconds=s + 1))
        for s in (1, 50, 100, 130)
    ]  # fmt: skip
    FakeDb.leftovers = [("scheduler_bench_000", "r9")]
    figures_of_run = bench_stack.run_one(2, C2)
    assert asked == [bench_stack.base]  # no switch yet: the user's config
    assert (figures_of_run.round, figures_of_run.condition) == (2, "celery-2")
    assert figures_of_run.bench.finished == 3 and figures_of_run.bench.per_min == 1.5
    assert figures_of_run.dagstorm_bench_per_min == 55.0
    tries_query = next(p for q, p in FakeDb.queries if q is stack_side.TRIES_SQL)
    assert tries_query == {"begin": begin, "end": begin + timedelta(seconds=120)}
    assert FakeDagRunApi.patched == [("scheduler_bench_000", "r9", "failed")]
    assert "1 leftover run(s) set failed" in said[-1]


def test_an_interrupted_run_stops_the_bench(
    fake_stack: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bench_stack, _ = fake_stack
    monkeypatch.setattr(
        stack_side,
        "run_scenario",
        lambda *a, **k: SimpleNamespace(status="interrupted", run_dir=tmp_path),
    )
    with pytest.raises(KeyboardInterrupt):
        bench_stack.run_one(1, L)
