"""A pipeline profile (``pipelines/<name>/pipeline.yaml``) as pydantic models.

A profile declares the pipeline under test, so that nothing in dagstorm's code
names a DAG or a task of it: the DAGs (ids or glob patterns), where their files
come from, how their runs start, the SLA reference and deadline per DAG, the
stage map (task-id patterns → wait / transform / load / check) and the output
checks that measure completeness. Unknown keys are errors everywhere.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from dagstorm.core.durations import parse_duration
from dagstorm.core.problems import KeyPath, raise_all

__all__ = [
    "STAGE_NAMES",
    "DagEntry",
    "DagSource",
    "DagStart",
    "Database",
    "FileCheck",
    "KafkaCheck",
    "OutputCheck",
    "PipelineProfile",
    "Sla",
    "SqlCheck",
    "stage_of",
]

#: The stages a stage map may name, in the order reports show them.
STAGE_NAMES = ("wait", "transform", "load", "check")
Stage = Literal["wait", "transform", "load", "check"]
_NAME = r"^[a-z0-9][a-z0-9_-]{0,62}$"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


class DagStart(_Strict):
    """How a DAG's runs start.

    ``schedule``: Airflow's own timetable. ``api``: dagstorm triggers runs through
    the REST API with ``conf``; ``per: partition`` triggers one run per landing
    partition a generator finishes (``conf.partition_hour``). ``asset``: an asset
    event on ``asset``. ``kafka``: a message on ``topic``. ``trigger``: a
    TriggerDagRunOperator of the DAG the entry names as its ``upstream``.
    """

    kind: Literal["schedule", "api", "asset", "kafka", "trigger"]
    conf: dict[str, Any] = Field(default_factory=dict)
    per: Literal["partition"] | None = None
    asset: str | None = None
    topic: str | None = None

    @model_validator(mode="after")
    def _fields_of_kind(self) -> DagStart:
        findings: list[tuple[KeyPath, str]] = []
        if self.kind == "asset" and not self.asset:
            findings.append(((), "an `asset` start needs `asset: <uri>`"))
        if self.kind == "kafka" and not self.topic:
            findings.append(((), "a `kafka` start needs `topic: <name>`"))
        if self.per is not None and self.kind != "api":
            findings.append((("per",), "`per` needs `kind: api` (dagstorm triggers the runs)"))
        if self.conf and self.kind != "api":
            findings.append((("conf",), "`conf` needs `kind: api` (dagstorm sends it)"))
        raise_all("DagStart", findings)
        return self


class Sla(_Strict):
    """When a run is due: ``deadline`` (simulated time) after its reference time."""

    deadline: float = Field(gt=0)
    #: Where a run's clock starts: when it was queued, or its logical date.
    reference: Literal["queued", "logical_date"] = "queued"

    @field_validator("deadline", mode="before")
    @classmethod
    def _duration(cls, value: Any) -> float:
        return parse_duration(value)


class DagEntry(_Strict):
    """One DAG (``id``) or every DAG matching a glob ``pattern``."""

    id: str | None = Field(None, min_length=1, max_length=250)
    pattern: str | None = Field(None, min_length=1, max_length=250)
    start: DagStart
    sla: Sla | None = None
    #: DAG ids its runs wait for (an ExternalTaskSensor, a TriggerDagRunOperator or
    #: an asset the upstream emits): the cross-DAG waits measure pairs each of its
    #: runs with the upstream's run it waited on.
    upstream: list[Annotated[str, Field(min_length=1, max_length=250)]] = Field(
        default_factory=list
    )

    @model_validator(mode="after")
    def _one_name(self) -> DagEntry:
        if (self.id is None) == (self.pattern is None):
            raise_all("DagEntry", [((), "give exactly one of `id` or `pattern`")])
        if self.start.kind == "trigger" and not self.upstream:
            raise_all(
                "DagEntry", [(("upstream",), "a `trigger` start needs `upstream: [<dag id>]`")]
            )
        return self

    def matches(self, dag_id: str) -> bool:
        """True when ``dag_id`` is this entry's DAG (or matches its pattern)."""
        if self.id is not None:
            return dag_id == self.id
        return fnmatchcase(dag_id, self.pattern or "")


class Database(_Strict):
    """A PostgreSQL database of the pipeline's own, on the stack's PostgreSQL.

    The embedded stack creates it (owned by its serving user) when the profile is
    deployed; checks and the schema reach it through ``dsn_env``, which need not be
    set for the embedded stack (dagstorm knows its DSN, through the serving-db proxy).
    """

    name: str = Field(pattern=r"^[a-z_][a-z0-9_]{0,62}$")
    dsn_env: str = Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")
    #: An Airflow connection (``postgres``) to it that deploy creates for the DAGs.
    connection_id: str | None = Field(None, pattern=r"^[A-Za-z0-9_.-]{1,250}$")


class DagSource(_Strict):
    """Where the DAG files come from.

    ``embedded``: ``folders`` (relative to the profile) are deployed into the
    embedded stack's DAGs folder by ``dagstorm stack deploy``, next to the other
    deployed profiles; ``mode: replace`` undeploys the others first.
    ``external``: the DAGs are already deployed on the Airflow the stack names.
    """

    kind: Literal["embedded", "external"] = "embedded"
    folders: list[Path] = Field(default_factory=list)
    mode: Literal["add", "replace"] = "add"
    database: Database | None = None
    #: Run dagstorm's setup of the reference stack on deploy: its connections,
    #: pools, variables, Kafka topics and ``schema`` (a SQL file on ``schema_dsn_env``).
    setup: Literal["reference", "none"] = "none"
    #: SQL run (idempotent DDL) on the database of ``schema_dsn_env`` at deploy.
    schema_file: Path | None = None
    schema_dsn_env: str | None = None
    #: Airflow pools the DAGs name (pool → slots), created or reset by deploy.
    pools: dict[Annotated[str, Field(pattern=r"^[A-Za-z0-9_.-]{1,256}$")], int] = Field(
        default_factory=dict
    )

    @model_validator(mode="after")
    def _folders(self) -> DagSource:
        findings: list[tuple[KeyPath, str]] = []
        if self.kind == "embedded" and not self.folders:
            findings.append((("folders",), "an embedded source needs one or more `folders`"))
        if self.kind == "external" and self.folders:
            findings.append((("folders",), "an external source has no folders to deploy"))
        if (self.schema_file is None) != (self.schema_dsn_env is None):
            findings.append((("schema_file",), "give both `schema_file` and `schema_dsn_env`"))
        for pool, slots in self.pools.items():
            if slots < 0:
                findings.append((("pools", pool), f"pool {pool}: slots must be 0 or more"))
        raise_all("DagSource", findings)
        return self


class _Check(_Strict):
    """What every output check has: a name and what its figures are compared with."""

    name: str = Field(pattern=_NAME)
    #: ``ledger``: rows are per (campaign_id, ad_id, hour) event counts compared with
    #: the generator's ledger; ``stream_ledger``: the same for the Kafka stream path;
    #: ``load_stats``: per-load bad and duplicate records (what the pipeline
    #: quarantined); ``stream_loads``: the stream's loaded signals (``signal_id``);
    #: ``count``: a number compared with ``expected`` (lost = expected − count).
    compare: Literal["ledger", "stream_ledger", "load_stats", "stream_loads", "count"] = "count"
    #: ``count`` only: the declared number the pipeline must have produced, in total
    #: or ``per_run`` (× the DAG runs this run triggered).
    expected: int | None = Field(None, ge=0)
    per_run: bool = False
    #: A column (or JSON field) with each record's id: duplicated = count − distinct ids.
    id_column: str | None = None

    @model_validator(mode="after")
    def _expected(self) -> _Check:
        if self.compare != "count" and (self.expected is not None or self.per_run):
            raise_all(self.__class__.__name__, [(("expected",), "only `compare: count` has it")])
        return self


class SqlCheck(_Check):
    """Rows of a SQL query on the database whose DSN is in environment variable ``dsn_env``.

    The query may use ``%(run_ids)s`` (the DAG runs this run triggered),
    ``%(signal_ids)s`` (the completion signals it sent), ``%(partitions)s`` (the
    landing partitions it finished, ``YYYY-MM-DDTHH``) and ``%(start)s`` /
    ``%(end)s`` (the run's wall interval, UTC). With ``compare: count`` a query
    returning one row with one number gives the count; otherwise the rows count.
    """

    kind: Literal["sql"] = "sql"
    dsn_env: str = Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")
    query: str = Field(min_length=1, max_length=20_000)


class KafkaCheck(_Check):
    """Messages on a Kafka topic (sum of end offsets, or since the run started), or a group's lag.

    ``measure: messages`` counts what the topic received during the run (end
    offsets at the end minus at the start); ``lag`` reports ``group``'s lag (a
    positive lag is messages not yet consumed: lost if the run is over).
    """

    kind: Literal["kafka"] = "kafka"
    topic: str = Field(min_length=1, max_length=249)
    measure: Literal["messages", "lag"] = "messages"
    group: str | None = None

    @model_validator(mode="after")
    def _group(self) -> KafkaCheck:
        if (self.measure == "lag") != (self.group is not None):
            raise_all("KafkaCheck", [(("group",), "`measure: lag` needs `group` (and only it)")])
        return self


class FileCheck(_Check):
    """Rows in files under ``path`` matching ``glob`` (Parquet, CSV or JSON lines).

    ``path`` may start with ``${state_dir}`` (the stack's state directory) or be
    relative to the profile.
    """

    kind: Literal["files"] = "files"
    path: str = Field(min_length=1)
    glob: str = "**/*"
    format: Literal["parquet", "csv", "jsonl"]


OutputCheck = Annotated[SqlCheck | KafkaCheck | FileCheck, Field(discriminator="kind")]


class PipelineProfile(_Strict):
    """One pipeline under test (see the module docstring)."""

    name: str = Field(pattern=_NAME)
    description: str = ""
    #: The profile scenarios use when they name none (one per pipelines folder).
    default: bool = False
    dags: list[DagEntry] = Field(min_length=1)
    source: DagSource
    #: Stage → task-id patterns (glob; ``*`` matches any text).
    stages: dict[Stage, list[str]] = Field(default_factory=dict)
    outputs: list[OutputCheck] = Field(default_factory=list)

    @model_validator(mode="after")
    def _unique(self) -> PipelineProfile:
        findings: list[tuple[KeyPath, str]] = []
        seen: set[str] = set()
        for index, check in enumerate(self.outputs):
            if check.name in seen:
                findings.append((("outputs", index, "name"), f"`{check.name}` twice"))
            seen.add(check.name)
        partition = [d for d in self.dags if d.start.per == "partition"]
        for dag in partition[1:]:
            at = self.dags.index(dag)
            findings.append((("dags", at, "start", "per"), "only one DAG may start per partition"))
        if partition and partition[0].id is None:
            at = self.dags.index(partition[0])
            findings.append((("dags", at, "id"), "a DAG started per partition needs an `id`"))
        raise_all("PipelineProfile", findings)
        return self

    @property
    def partition_dag(self) -> str | None:
        """The DAG dagstorm triggers per finished landing partition, if any."""
        return next((d.id for d in self.dags if d.start.per == "partition"), None)

    def dag_of(self, dag_id: str) -> DagEntry | None:
        """The entry ``dag_id`` belongs to."""
        return next((d for d in self.dags if d.matches(dag_id)), None)

    def upstream_of(self, dag_id: str) -> tuple[str, ...]:
        """The DAGs ``dag_id``'s runs wait for (its entry's ``upstream``)."""
        entry = self.dag_of(dag_id)
        return tuple(entry.upstream) if entry is not None else ()

    def stage_of(self, task_id: str) -> str | None:
        """The stage ``task_id`` belongs to (None: only timed in queueing)."""
        return stage_of(task_id, {str(stage): patterns for stage, patterns in self.stages.items()})


def stage_of(task_id: str, stages: Mapping[str, Sequence[str]]) -> str | None:
    """The stage of a stage map (stage → task-id glob patterns) ``task_id`` belongs to.

    The first stage with a matching pattern, in the map's order; None when none matches.
    """
    for stage, patterns in stages.items():
        if any(fnmatchcase(task_id, pattern) for pattern in patterns):
            return stage
    return None
