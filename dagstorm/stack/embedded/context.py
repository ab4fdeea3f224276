"""Everything a component of the embedded stack needs to know, in one object."""

from __future__ import annotations

import importlib.util
import os
import shutil
import sys
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from dagstorm.core.errors import InstallError
from dagstorm.core.progress import Progress
from dagstorm.stack.config import StackConfig
from dagstorm.stack.credentials import Credentials, load_or_create
from dagstorm.stack.embedded.layout import StateLayout, project_root


def find_spark_home() -> Path:
    """SPARK_HOME of the full pyspark package installed with dagstorm."""
    spec = importlib.util.find_spec("pyspark")
    if spec is None or not spec.submodule_search_locations:
        raise InstallError(
            "pyspark is not installed in dagstorm's environment",
            where=sys.executable,
            fix="run `pip install -e .` (pyspark is a dependency) or scripts/bootstrap.sh",
        )
    home = Path(next(iter(spec.submodule_search_locations)))
    if not (home / "bin" / "spark-class").exists():
        raise InstallError(
            "the installed pyspark has no bin/spark-class (is it pyspark-client?)",
            where=str(home),
            fix="install the full `pyspark` package, not `pyspark-client`",
        )
    return home


def find_java_home() -> Path:
    """JAVA_HOME from the environment or from the `java` on PATH."""
    if os.environ.get("JAVA_HOME"):
        return Path(os.environ["JAVA_HOME"])
    java = shutil.which("java")
    if java is None:
        raise InstallError(
            "java (17+) is not on PATH",
            fix="apt-get install openjdk-17-jdk-headless (scripts/bootstrap.sh does it)",
        )
    return Path(java).resolve().parents[1]


@dataclass
class StackContext:
    """Config, paths, credentials and tool locations of one embedded stack."""

    config: StackConfig
    progress: Progress

    @cached_property
    def layout(self) -> StateLayout:
        """State directory layout."""
        return StateLayout(self.config.resolved_state_dir())

    @property
    def marker(self) -> str:
        """The string that identifies processes of this stack."""
        return str(self.layout.root)

    @cached_property
    def credentials(self) -> Credentials:
        """Generated once, stored 0600 under secrets/."""
        self.layout.ensure()
        return load_or_create(self.layout.secrets_dir)

    @cached_property
    def project_root(self) -> Path:
        """Where stack/ recipes and pipelines/ live."""
        return project_root()

    @cached_property
    def spark_home(self) -> Path:
        """The full pyspark distribution."""
        return find_spark_home()

    @cached_property
    def java_home(self) -> Path:
        """The JDK the JVM components run on."""
        return find_java_home()

    @property
    def dags_folder(self) -> Path:
        """The DAGs Airflow loads: dagstorm's own folder, where profiles are deployed."""
        return self.config.airflow.dags_folder or self.layout.root / "airflow" / "dags"

    def base_env(self) -> dict[str, str]:
        """A minimal environment for child processes (no inherited secrets)."""
        keep = ("PATH", "LANG", "LC_ALL", "HOME", "TZ", "TMPDIR")
        env = {k: os.environ[k] for k in keep if k in os.environ}
        env.setdefault("LANG", "C.UTF-8")
        env["JAVA_HOME"] = str(self.java_home)
        return env
