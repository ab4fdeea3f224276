"""Kafka 4 broker in KRaft mode, from Maven Central jars."""

from __future__ import annotations

import base64
import re
import subprocess
import uuid
from string import Template

from dagstorm.clients.kafka import KafkaAdminClient, KafkaError
from dagstorm.core.errors import ComponentStartError
from dagstorm.stack.embedded.components.base import Component, Health


def kafka_version(libs: list[str]) -> str:
    """The broker version from the kafka_2.13-X.jar name."""
    for name in libs:
        match = re.fullmatch(r"kafka_2\.13-(.+)\.jar", name)
        if match:
            return match.group(1)
    return "?"


class Kafka(Component):
    """The broker; clients reach it only through the Toxiproxy `kafka` proxy."""

    name = "kafka"
    depends_on = ("toxiproxy",)
    start_timeout = 90.0
    stop_timeout = 30.0

    @property
    def bootstrap(self) -> str:
        """The address clients use (the proxy, which the broker advertises)."""
        return f"127.0.0.1:{self.ctx.config.ports.kafka}"

    def _render_config(self) -> None:
        conf = self.ctx.layout.kafka_config_dir
        conf.mkdir(parents=True, exist_ok=True)
        recipes = self.ctx.project_root / "stack" / "kafka"
        template = Template((recipes / "server.properties.template").read_text())
        values = {**self.ctx.config.ports.model_dump(), "log_dirs": str(self.ctx.layout.kafka_data)}
        (conf / "server.properties").write_text(template.substitute(values))
        (conf / "log4j2.yaml").write_text((recipes / "log4j2.yaml").read_text())

    def _java(self) -> str:
        return str(self.ctx.java_home / "bin" / "java")

    def _classpath(self) -> str:
        return f"{self.ctx.layout.kafka_libs}/*"

    def prepare(self) -> None:
        """Render the config; format the storage once with a stored cluster id."""
        self._render_config()
        data = self.ctx.layout.kafka_data
        if (data / "meta.properties").exists():
            return
        data.mkdir(parents=True, exist_ok=True)
        id_file = data.parent / "cluster-id"
        if not id_file.exists():
            id_file.write_text(base64.urlsafe_b64encode(uuid.uuid4().bytes).rstrip(b"=").decode())
        result = subprocess.run(
            [
                self._java(),
                "-cp",
                self._classpath(),
                "kafka.tools.StorageTool",
                "format",
                "-t",
                id_file.read_text().strip(),
                "-c",
                str(self.ctx.layout.kafka_config_dir / "server.properties"),
                "--standalone",
            ],
            env=self.ctx.base_env(),
            capture_output=True,
            text=True,
            check=False,
            timeout=120,
        )
        if result.returncode != 0:
            raise ComponentStartError(
                "kafka",
                f"storage format exited {result.returncode}",
                log_tail=(result.stderr or result.stdout)[-2000:],
                fix="remove <state>/kafka/data and retry",
            )

    def argv(self) -> list[str]:
        """The broker JVM, sized for a small machine."""
        conf = self.ctx.layout.kafka_config_dir
        return [
            self._java(),
            "-Xms256m",
            "-Xmx768m",
            "-XX:+UseG1GC",
            "-XX:MaxGCPauseMillis=20",
            "-Djava.awt.headless=true",
            f"-Dlog4j2.configurationFile={conf / 'log4j2.yaml'}",
            f"-Dkafka.logs.dir={self.ctx.layout.logs_dir}",
            "-cp",
            self._classpath(),
            "kafka.Kafka",
            str(conf / "server.properties"),
        ]

    def env(self) -> dict[str, str]:
        """Environment."""
        return self.ctx.base_env()

    def health(self) -> Health:
        """A metadata request through the proxy."""
        try:
            admin = KafkaAdminClient(
                bootstrap_servers=self.bootstrap,
                request_timeout_ms=3000,
                bootstrap_timeout_ms=3000,
                client_id="dagstorm-health",
            )
            try:
                cluster = admin.describe_cluster()
            finally:
                admin.close()
        except (KafkaError, OSError) as exc:
            return Health(False, f"{exc.__class__.__name__}: {exc}")
        brokers = cluster.get("brokers", [])
        if not brokers:
            return Health(False, "metadata lists no broker")
        return Health(True, f"{len(brokers)} broker(s)")

    def version(self) -> str:
        """From the jar name."""
        libs = self.ctx.layout.kafka_libs
        return (
            kafka_version([p.name for p in libs.glob("kafka_2.13-*.jar")]) if libs.exists() else "?"
        )

    def url(self) -> str:
        """Bootstrap address."""
        return f"kafka://{self.bootstrap}"
