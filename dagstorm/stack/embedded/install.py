"""`dagstorm stack install`: fetch and build every embedded-stack component.

Each step has a fingerprint (its recipe's content); a finished step writes it to
``<state>/installed/<step>``, so a second install is a no-op in seconds and a
changed recipe (say a new Kafka version in stack/kafka/pom.xml) re-runs just
that step. Every command's output goes to ``<state>/logs/install-<step>.log``.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from dagstorm.core.errors import InstallError
from dagstorm.stack.embedded import byteman
from dagstorm.stack.embedded.components.postgres import postgres_bin_dir
from dagstorm.stack.embedded.context import StackContext
from dagstorm.stack.embedded.processes import tail

#: redis-server is the Celery broker of CeleryExecutor stacks (small, and not started
#: unless the stack config asks for Celery).
APT_PACKAGES = ("postgresql", "openjdk-17-jdk-headless", "maven", "redis-server")


@dataclass(frozen=True)
class InstallStep:
    """One idempotent install step."""

    name: str
    title: str
    fingerprint: Callable[[], str]
    present: Callable[[], bool]
    run: Callable[[], None]


def _digest(*parts: str | bytes) -> str:
    sha = hashlib.sha256()
    for part in parts:
        sha.update(part.encode() if isinstance(part, str) else part)
    return sha.hexdigest()[:16]


def _artifact(jar_name: str) -> str:
    """``kafka-clients-3.9.2.jar`` → ``kafka-clients``."""
    match = re.match(r"^(.*?)-\d[\w.\-]*\.jar$", jar_name)
    return match.group(1) if match else jar_name


class Installer:
    """Runs the install steps for one state directory."""

    def __init__(self, ctx: StackContext) -> None:
        self.ctx = ctx
        self.recipes = ctx.project_root / "stack"

    def _run(
        self,
        step: str,
        argv: Sequence[str],
        *,
        env: dict[str, str] | None = None,
        timeout: float = 1800,
        cwd: Path | None = None,
    ) -> None:
        log = self.ctx.layout.log(f"install-{step}")
        with log.open("ab") as out:
            out.write(f"\n$ {' '.join(argv)}\n".encode())
            out.flush()
            try:
                result = subprocess.run(
                    list(argv),
                    stdout=out,
                    stderr=subprocess.STDOUT,
                    env=env,
                    cwd=str(cwd) if cwd else None,
                    timeout=timeout,
                    check=False,
                )
            except FileNotFoundError:
                raise InstallError(
                    f"{argv[0]} is not installed",
                    where=step,
                    fix="run scripts/bootstrap.sh (it installs the system tools)",
                ) from None
            except subprocess.TimeoutExpired:
                raise InstallError(
                    f"`{argv[0]}` took longer than {timeout:.0f} s",
                    where=str(log),
                    fix="check the registry is reachable and retry",
                ) from None
        if result.returncode != 0:
            raise InstallError(
                f"`{' '.join(argv[:3])} …` exited {result.returncode}:\n{tail(log, 15)}",
                where=str(log),
                fix="read the log; a registry refusal names the artifact it could not fetch",
            )

    # -- system tools -----------------------------------------------------------------

    def _system_present(self) -> bool:
        try:
            postgres_bin_dir()
        except InstallError:
            return False
        return all(shutil.which(tool) for tool in ("java", "mvn", "go", "redis-server"))

    def _system_run(self) -> None:
        missing = [tool for tool in ("java", "mvn", "redis-server") if not shutil.which(tool)]
        try:
            postgres_bin_dir()
        except InstallError:
            missing.append("postgres")
        if missing:
            if os.geteuid() != 0 or not shutil.which("apt-get"):
                raise InstallError(
                    f"missing system tools: {', '.join(missing)}",
                    fix=f"install them (Debian: apt-get install {' '.join(APT_PACKAGES)})",
                )
            env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
            self._run("system", ["apt-get", "update", "-q"], env=env)
            self._run("system", ["apt-get", "install", "-y", "-q", *APT_PACKAGES], env=env)
        if not shutil.which("go"):
            raise InstallError(
                "Go (>= 1.23) is not on PATH; it builds the Toxiproxy server",
                fix="install Go from your distribution or golang's tarball and retry",
            )

    # -- toxiproxy ----------------------------------------------------------------------

    def _toxiproxy_module(self) -> str:
        return (self.recipes / "toxiproxy" / "go-module.txt").read_text().strip()

    def _toxiproxy_run(self) -> None:
        with tempfile.TemporaryDirectory(prefix="dagstorm-gobin-") as gobin:
            env = {**os.environ, "GOBIN": gobin, "CGO_ENABLED": "0", "GOFLAGS": "-mod=mod"}
            module = self._toxiproxy_module()
            package, _, version = module.partition("@")
            # A `go install` build reports "git" as its version unless told its release.
            root = package.removesuffix("/cmd/server")
            ldflags = f"-ldflags=-X {root}.Version={version.removeprefix('v')}"
            self._run("toxiproxy", ["go", "install", ldflags, module], env=env)
            built = Path(gobin) / "server"
            target = self.ctx.layout.toxiproxy_bin
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.move(str(built), target)
            target.chmod(0o755)

    # -- kafka --------------------------------------------------------------------------

    def _kafka_run(self) -> None:
        libs = self.ctx.layout.kafka_libs
        if libs.exists():
            shutil.rmtree(libs)
        libs.mkdir(parents=True)
        self._run(
            "kafka",
            [
                "mvn",
                "-B",
                "-q",
                "-f",
                str(self.recipes / "kafka" / "pom.xml"),
                "dependency:copy-dependencies",
                "-DincludeScope=runtime",
                f"-DoutputDirectory={libs}",
            ],
        )

    # -- airflow ------------------------------------------------------------------------

    def _airflow_fingerprint(self) -> str:
        reqs = (self.recipes / "airflow" / "requirements.txt").read_bytes()
        return _digest(reqs, sys.version)

    def _airflow_run(self) -> None:
        venv = self.ctx.layout.airflow_venv
        if venv.exists():
            shutil.rmtree(venv)
        venv.parent.mkdir(parents=True, exist_ok=True)
        base_python = getattr(sys, "_base_executable", sys.executable)
        self._run("airflow", [base_python, "-m", "venv", str(venv)])
        pip = [str(venv / "bin" / "python"), "-m", "pip"]
        self._run("airflow", [*pip, "install", "-q", "--upgrade", "pip"])
        self._run(
            "airflow",
            [
                *pip,
                "install",
                "-q",
                "-r",
                str(self.recipes / "airflow" / "requirements.txt"),
            ],
        )

    # -- spark --------------------------------------------------------------------------

    def _spark_fingerprint(self) -> str:
        pom = (self.recipes / "spark" / "pom.xml").read_bytes()
        return _digest(str(self.ctx.spark_home), pom, "without-spark-shipped-jars")

    def _spark_present(self) -> bool:
        jars = self.ctx.layout.spark_jars
        return (self.ctx.spark_home / "bin" / "spark-class").exists() and any(
            jars.glob("spark-sql-kafka-0-10_2.13-*.jar")
        )

    def _spark_run(self) -> None:
        # The distribution is the pyspark package dagstorm depends on: check it is
        # whole; then fetch the Kafka connector matching its version.
        home = self.ctx.spark_home
        self._run(
            "spark",
            [str(home / "bin" / "spark-submit"), "--version"],
            env={**os.environ, "JAVA_HOME": str(self.ctx.java_home)},
        )
        jars = self.ctx.layout.spark_jars
        if jars.exists():
            shutil.rmtree(jars)
        jars.mkdir(parents=True)
        self._run(
            "spark",
            [
                "mvn",
                "-B",
                "-q",
                "-f",
                str(self.recipes / "spark" / "pom.xml"),
                "dependency:copy-dependencies",
                "-DincludeScope=runtime",
                f"-DoutputDirectory={jars}",
            ],
        )
        # Jars Spark itself ships (Hadoop client, Scala, lz4, ...) must come from Spark
        # only: a second copy in another version on the classpath breaks at run time.
        shipped = {_artifact(p.name) for p in (home / "jars").glob("*.jar")}
        for jar in jars.glob("*.jar"):
            if _artifact(jar.name) in shipped:
                jar.unlink()

    # -- byteman ------------------------------------------------------------------------

    def _byteman_present(self) -> bool:
        names = [coord.split(":")[1] for coord in byteman.artifacts(self.recipes)]
        return all((self.ctx.layout.byteman_dir / f"{name}.jar").exists() for name in names)

    def _byteman_run(self) -> None:
        # Each jar alone (-Dtransitive=false): `byteman` names a `byteman-agent` POM
        # dependency Maven Central does not serve, and needs nothing else at run time.
        target = self.ctx.layout.byteman_dir
        if target.exists():
            shutil.rmtree(target)
        target.mkdir(parents=True)
        with tempfile.TemporaryDirectory(prefix="dagstorm-byteman-") as tmp:
            for coord in byteman.artifacts(self.recipes):
                self._run(
                    "byteman",
                    [
                        "mvn",
                        "-B",
                        "-q",
                        "dependency:copy",
                        f"-Dartifact={coord}",
                        "-Dtransitive=false",
                        f"-DoutputDirectory={tmp}",
                    ],
                    cwd=Path(tmp),
                )
                _group, artifact, version = coord.split(":")
                fetched = Path(tmp) / f"{artifact}-{version}.jar"
                # Versionless names: spark-defaults.conf names the agent by path.
                shutil.move(str(fetched), target / f"{artifact}.jar")

    def steps(self) -> list[InstallStep]:
        """All steps, in order."""
        layout = self.ctx.layout
        return [
            InstallStep(
                "system",
                "system tools (PostgreSQL, Java 17, Maven, Go, Redis)",
                lambda: _digest(*APT_PACKAGES),
                self._system_present,
                self._system_run,
            ),
            InstallStep(
                "toxiproxy",
                "Toxiproxy server (go install from the Go module proxy)",
                lambda: _digest(self._toxiproxy_module(), "with-version-ldflags"),
                layout.toxiproxy_bin.exists,
                self._toxiproxy_run,
            ),
            InstallStep(
                "kafka",
                "Kafka broker jars (Maven Central)",
                lambda: _digest((self.recipes / "kafka" / "pom.xml").read_bytes()),
                lambda: any(layout.kafka_libs.glob("kafka_2.13-*.jar")),
                self._kafka_run,
            ),
            InstallStep(
                "airflow",
                "Airflow 3 virtualenv (PyPI)",
                self._airflow_fingerprint,
                (layout.airflow_venv / "bin" / "airflow").exists,
                self._airflow_run,
            ),
            InstallStep(
                "spark",
                "Spark (pyspark package) and its Kafka connector (Maven Central)",
                self._spark_fingerprint,
                self._spark_present,
                self._spark_run,
            ),
            InstallStep(
                "byteman",
                "Byteman agent for JVM faults (Maven Central)",
                lambda: _digest((self.recipes / byteman.ARTIFACTS_FILE).read_bytes()),
                self._byteman_present,
                self._byteman_run,
            ),
        ]

    def is_installed(self) -> bool:
        """True if every step is done with its current recipe."""
        return all(self._done(step) for step in self.steps())

    def _done(self, step: InstallStep) -> bool:
        marker = self.ctx.layout.installed_dir / step.name
        return marker.exists() and marker.read_text() == step.fingerprint() and step.present()

    def install(self, *, force: bool = False) -> list[tuple[str, str]]:
        """Run every step that is not done; returns (step, "installed"|"up to date")."""
        self.ctx.layout.ensure()
        outcome: list[tuple[str, str]] = []
        for step in self.steps():
            if not force and self._done(step):
                self.ctx.progress.info(f"✓ {step.title}: up to date")
                outcome.append((step.name, "up to date"))
                continue
            with self.ctx.progress.step(step.title):
                step.run()
            (self.ctx.layout.installed_dir / step.name).write_text(step.fingerprint())
            outcome.append((step.name, "installed"))
        return outcome
