"""DAG integrity report of a DAGs folder, as JSON (run with Airflow's own Python).

Loads every DAG with Airflow's DagBag and reports, per DAG and task: import
errors, parse time per file, serialisation errors (as the DAG processor
serialises), cycles, retries and callbacks, pools, connection
ids, and each templated field rendered for a sample date with sample Variables
and Connections. dagstorm's unit test (tests/unit/test_pipeline_dags.py) runs
it in Airflow's virtualenv, because dagstorm's own has no Airflow::

    <state>/airflow/venv/bin/python pipelines/tools/check_dags.py \
        --dags-folder pipelines/dags --sample sample.json --out report.json

``sample.json``: ``{"variables": {key: value}, "connections": {id: {"extra": {...}}},
"xcom": {"task_id/key": value}, "logical_date": "2024-05-01T13:00:00+00:00"}``.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

#: Operator attributes that name an Airflow connection.
CONN_ATTRIBUTES = ("conn_id", "_conn_id", "fs_conn_id", "kafka_config_id", "postgres_conn_id")


class _Recorder:
    """Remembers which keys a template asked for."""

    def __init__(self) -> None:
        self.used: set[str] = set()


class _VarValues:
    def __init__(self, values: dict[str, Any], recorder: _Recorder) -> None:
        self._values = values
        self._recorder = recorder

    def __getattr__(self, key: str) -> Any:
        self._recorder.used.add(key)
        if key not in self._values:
            raise KeyError(f"Variable {key!r} is not in the sample (does deploy set it?)")
        return self._values[key]

    def get(self, key: str, default: Any = None) -> Any:
        self._recorder.used.add(key)
        return self._values.get(key, default)


class _VarJson(_VarValues):
    def __getattr__(self, key: str) -> Any:
        value = super().__getattr__(key)
        return json.loads(value) if isinstance(value, str) else value


class _Vars:
    def __init__(self, values: dict[str, Any], recorder: _Recorder) -> None:
        self.value = _VarValues(values, recorder)
        self.json = _VarJson(values, recorder)


class _Conn:
    def __init__(self, conn_id: str, data: dict[str, Any]) -> None:
        self.conn_id = conn_id
        self.extra_dejson = data.get("extra", {})
        self.host = data.get("host")
        self.port = data.get("port")
        self.login = data.get("login")
        self.schema = data.get("schema")


class _Conns:
    def __init__(self, data: dict[str, dict[str, Any]], recorder: _Recorder) -> None:
        self._data = data
        self._recorder = recorder

    def __getattr__(self, conn_id: str) -> _Conn:
        self._recorder.used.add(conn_id)
        if conn_id not in self._data:
            raise KeyError(f"Connection {conn_id!r} is not in the sample (does deploy set it?)")
        return _Conn(conn_id, self._data[conn_id])


class _TaskInstance:
    def __init__(self, task_id: str, xcom: dict[str, Any]) -> None:
        self.task_id = task_id
        self._xcom = xcom

    def xcom_pull(self, task_ids: str | None = None, key: str = "return_value", **_: Any) -> Any:
        return self._xcom.get(f"{task_ids}/{key}")


def _callbacks(value: Any) -> int:
    if value is None:
        return 0
    return len(value) if isinstance(value, list | tuple) else 1


def _render_task(task: Any, dag: Any, sample: dict[str, Any], when: datetime) -> dict[str, Any]:
    var_rec, conn_rec = _Recorder(), _Recorder()
    params = {k: dag.params[k] for k in dag.params}
    context = {
        "ds": when.strftime("%Y-%m-%d"),
        "ts": when.isoformat(),
        "logical_date": when,
        "data_interval_start": when,
        "data_interval_end": when + timedelta(hours=1),
        "run_id": "scheduled__" + when.isoformat(),
        "params": params,
        "var": _Vars(sample.get("variables", {}), var_rec),
        "conn": _Conns(sample.get("connections", {}), conn_rec),
        "ti": _TaskInstance(task.task_id, sample.get("xcom", {})),
        "task": task,
        "dag": dag,
    }
    env = dag.get_template_env()
    rendered: dict[str, str] = {}
    errors: dict[str, str] = {}
    for name in task.template_fields:
        content = getattr(task, name, None)
        if content is None:
            continue
        try:
            rendered[name] = str(task.render_template(content, context, env))
        except Exception as exc:  # noqa: BLE001 - reported, the test asserts on it
            errors[name] = f"{exc.__class__.__name__}: {exc}"
    return {
        "rendered": rendered,
        "render_errors": errors,
        "variables_used": sorted(var_rec.used),
        "connections_used": sorted(conn_rec.used),
    }


def _seconds(value: Any) -> float | None:
    if isinstance(value, timedelta):
        return value.total_seconds()
    return float(value) if isinstance(value, int | float) else None


def _asset_names(values: Any) -> list[str]:
    """The names of the assets among ``values`` (a schedule or a task's outlets)."""
    if not isinstance(values, list | tuple):
        return []
    return [str(v.name) for v in values if type(v).__name__ == "Asset"]


def _task_report(task: Any, dag: Any, sample: dict[str, Any], when: datetime) -> dict[str, Any]:
    conn_ids = sorted({str(getattr(task, a)) for a in CONN_ATTRIBUTES if getattr(task, a, None)})
    return {
        "operator": type(task).__name__,
        "retries": task.retries,
        "retry_exponential_backoff": task.retry_exponential_backoff,
        "max_retry_delay": task.max_retry_delay.total_seconds() if task.max_retry_delay else None,
        "on_failure_callbacks": _callbacks(task.on_failure_callback),
        "on_retry_callbacks": _callbacks(task.on_retry_callback),
        "priority_weight": task.priority_weight,
        "pool": task.pool,
        "conn_ids": conn_ids,
        "trigger_rule": str(task.trigger_rule),
        "upstream": sorted(task.upstream_task_ids),
        "weight_rule": str(getattr(task, "weight_rule", None)),
        # Cross-DAG dependencies: what a sensor waits for, what a trigger starts, what
        # assets the task emits.
        "external_dag_id": getattr(task, "external_dag_id", None),
        "trigger_dag_id": getattr(task, "trigger_dag_id", None),
        "mode": getattr(task, "mode", None),
        "sensor_timeout": _seconds(getattr(task, "timeout", None)),
        "poke_interval": _seconds(getattr(task, "poke_interval", None)),
        "outlets": sorted(_asset_names(task.outlets)),
        **_render_task(task, dag, sample, when),
    }


def _serialize(bag: Any) -> tuple[float, dict[str, str]]:
    """Serialise every DAG as the DAG processor does (a failure there is an import error)."""
    from airflow.serialization.serialized_objects import DagSerialization  # noqa: PLC0415

    started = time.monotonic()
    errors: dict[str, str] = {}
    for dag_id, dag in bag.dags.items():
        try:
            DagSerialization.to_dict(dag)
        except Exception as exc:  # noqa: BLE001 - reported, the test asserts on it
            errors[dag_id] = f"{exc.__class__.__name__}: {exc}"
    return round(time.monotonic() - started, 3), errors


def report(dags_folder: Path, sample: dict[str, Any]) -> dict[str, Any]:
    """Everything the integrity test asserts on."""
    started = time.monotonic()
    from airflow.dag_processing.dagbag import BundleDagBag  # noqa: PLC0415 - timed here

    import_seconds = time.monotonic() - started
    started = time.monotonic()
    bag = BundleDagBag(str(dags_folder), bundle_path=dags_folder)
    fill_seconds = time.monotonic() - started
    serialize_seconds, serialize_errors = _serialize(bag)
    when = datetime.fromisoformat(sample.get("logical_date", "2024-05-01T13:00:00+00:00"))
    dags: dict[str, Any] = {}
    for dag_id, dag in sorted(bag.dags.items()):
        try:
            dag.check_cycle()
            cycle = None
        except Exception as exc:  # noqa: BLE001 - reported, the test asserts on it
            cycle = f"{exc.__class__.__name__}: {exc}"
        dags[dag_id] = {
            "file": Path(dag.fileloc).name,
            "catchup": dag.catchup,
            "schedule": str(dag.schedule),
            "asset_schedule": sorted(_asset_names(dag.schedule)),
            "tags": sorted(dag.tags),
            "has_deadline": bool(getattr(dag, "deadline", None)),
            "cycle": cycle,
            "tasks": {t.task_id: _task_report(t, dag, sample, when) for t in dag.tasks},
        }
    return {
        "airflow_import_seconds": round(import_seconds, 3),
        "dagbag_fill_seconds": round(fill_seconds, 3),
        "import_errors": {str(k): str(v) for k, v in bag.import_errors.items()},
        "serialize_seconds": serialize_seconds,
        "serialize_errors": serialize_errors,
        "file_parse_seconds": {
            str(stat.file): stat.duration.total_seconds() for stat in bag.dagbag_stats
        },
        "dags": dags,
    }


def main(argv: list[str]) -> int:
    """Print the report as JSON on stdout."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dags-folder", required=True, type=Path)
    parser.add_argument("--sample", type=Path, help="JSON: variables, connections, xcom")
    parser.add_argument("--out", type=Path, help="write the report here (default: stdout)")
    args = parser.parse_args(argv)
    sample = json.loads(args.sample.read_text()) if args.sample else {}
    text = json.dumps(report(args.dags_folder.resolve(), sample), default=str, indent=1)
    if args.out:
        args.out.write_text(text)
    else:
        sys.stdout.write(text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
