"""Where everything of the embedded stack lives under the state directory."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


def project_root() -> Path:
    """The checkout's root, or the packaged copy of ``stack/`` and ``pipelines/``."""
    here = Path(__file__).resolve()
    checkout = here.parents[3]  # dagstorm/stack/embedded/layout.py
    if (checkout / "stack").is_dir() and (checkout / "pipelines").is_dir():
        return checkout
    return here.parents[2] / "_data"


@dataclass(frozen=True)
class StateLayout:
    """Paths of the embedded stack's state, all below one directory."""

    root: Path

    @property
    def bin_dir(self) -> Path:
        """Binaries built at install time (toxiproxy-server)."""
        return self.root / "bin"

    @property
    def logs_dir(self) -> Path:
        """One log file per component."""
        return self.root / "logs"

    @property
    def run_dir(self) -> Path:
        """Pid files."""
        return self.root / "run"

    @property
    def secrets_dir(self) -> Path:
        """Generated local credentials (0700 directory, 0600 files)."""
        return self.root / "secrets"

    @property
    def faults_dir(self) -> Path:
        """Faults' own state: the fault journal `recover` reads, OOM jobs' files."""
        return self.root / "faults"

    @property
    def fault_journal(self) -> Path:
        """Every fault injected against this stack, until reverted (for `dagstorm recover`)."""
        return self.faults_dir / "journal.jsonl"

    @property
    def installed_dir(self) -> Path:
        """Markers of finished install steps (content: the recipe's fingerprint)."""
        return self.root / "installed"

    @property
    def toxiproxy_bin(self) -> Path:
        """The Toxiproxy server binary."""
        return self.bin_dir / "toxiproxy-server"

    @property
    def kafka_libs(self) -> Path:
        """Kafka's jars, resolved from Maven Central."""
        return self.root / "kafka" / "libs"

    @property
    def kafka_data(self) -> Path:
        """Kafka's log directory (formatted once)."""
        return self.root / "kafka" / "data"

    @property
    def kafka_config_dir(self) -> Path:
        """Rendered server.properties and log4j2 config."""
        return self.root / "kafka" / "config"

    @property
    def postgres_data(self) -> Path:
        """The PostgreSQL cluster's data directory."""
        return self.root / "postgres" / "data"

    @property
    def postgres_socket_dir(self) -> Path:
        """PostgreSQL's Unix socket directory."""
        return self.root / "postgres" / "run"

    @property
    def spark_dir(self) -> Path:
        """Spark's conf, pid, work, local and event-log directories live here."""
        return self.root / "spark"

    @property
    def spark_conf_dir(self) -> Path:
        """SPARK_CONF_DIR (spark-defaults.conf)."""
        return self.spark_dir / "conf"

    @property
    def spark_jars(self) -> Path:
        """Extra jars for jobs (the Kafka connector), resolved at install time."""
        return self.spark_dir / "jars"

    @property
    def spark_event_dir(self) -> Path:
        """Event logs, read by the history server."""
        return self.spark_dir / "events"

    @property
    def byteman_dir(self) -> Path:
        """The Byteman agent and its submit client, resolved at install time."""
        return self.root / "byteman"

    @property
    def byteman_jar(self) -> Path:
        """The Byteman agent jar the Spark JVMs load (``-javaagent``)."""
        return self.byteman_dir / "byteman.jar"

    @property
    def spark_java_home(self) -> Path:
        """The JAVA_HOME of Spark's JVMs: ``bin/java`` gives each agent a port of its own."""
        return self.spark_dir / "java"

    @property
    def airflow_home(self) -> Path:
        """AIRFLOW_HOME."""
        return self.root / "airflow" / "home"

    @property
    def airflow_venv(self) -> Path:
        """Airflow's own virtualenv (its dependencies stay apart from dagstorm's)."""
        return self.root / "airflow" / "venv"

    @property
    def landing_dir(self) -> Path:
        """The landing zone the generator writes and the pipeline reads."""
        return self.root / "landing"

    def log(self, component: str) -> Path:
        """Log file of a component."""
        return self.logs_dir / f"{component}.log"

    def pid_file(self, component: str) -> Path:
        """Pid file of a component."""
        return self.run_dir / f"{component}.pid"

    def ensure(self) -> None:
        """Create the directories that must exist before anything starts."""
        for path in (self.root, self.bin_dir, self.logs_dir, self.run_dir, self.installed_dir):
            path.mkdir(parents=True, exist_ok=True)
        self.secrets_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        self.secrets_dir.chmod(0o700)
