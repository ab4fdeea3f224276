"""PostgreSQL from Debian's package: Airflow's metadata DB and the serving DB."""

from __future__ import annotations

import os
import pwd
import shutil
import signal
import subprocess
from pathlib import Path

import psycopg
from psycopg import sql

from dagstorm.core.errors import ComponentStartError, InstallError
from dagstorm.profiles.loader import default_database
from dagstorm.stack.embedded.components.base import Component, Health

AIRFLOW_DB = "airflow"


def postgres_bin_dir() -> Path:
    """The newest PostgreSQL server installed from Debian's packages."""
    root = Path("/usr/lib/postgresql")
    versions = sorted(
        (p for p in root.glob("*") if (p / "bin" / "postgres").exists()),
        key=lambda p: int(p.name) if p.name.isdigit() else 0,
    )
    if not versions:
        raise InstallError(
            "PostgreSQL server is not installed",
            where=str(root),
            fix="apt-get install postgresql (scripts/bootstrap.sh does it)",
        )
    return versions[-1] / "bin"


class Postgres(Component):
    """A private PostgreSQL cluster under the state directory."""

    name = "postgres"
    start_timeout = 60.0
    stop_signal = signal.SIGINT  # "fast" shutdown: roll back open transactions, exit

    def user(self) -> str | None:
        """PostgreSQL refuses to run as root: use Debian's `postgres` user then."""
        return "postgres" if os.geteuid() == 0 else None

    def _chown(self, path: Path) -> None:
        user = self.user()
        if user is not None:
            entry = pwd.getpwnam(user)
            os.chown(path, entry.pw_uid, entry.pw_gid)

    def prepare(self) -> None:
        """Initdb once (superuser with a generated password, scram auth on loopback)."""
        data = self.ctx.layout.postgres_data
        sock = self.ctx.layout.postgres_socket_dir
        for path in (data.parent, sock):
            path.mkdir(parents=True, exist_ok=True)
            self._chown(path)
        if (data / "PG_VERSION").exists():
            return
        if data.exists():
            shutil.rmtree(data)
        pwfile = data.parent / ".pwfile"
        fd = os.open(pwfile, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(self.ctx.credentials.postgres_superuser_password + "\n")
        self._chown(pwfile)
        try:
            result = subprocess.run(
                [
                    str(postgres_bin_dir() / "initdb"),
                    "-D",
                    str(data),
                    "-U",
                    self.ctx.credentials.postgres_superuser,
                    "--auth=scram-sha-256",
                    f"--pwfile={pwfile}",
                    "--encoding=UTF8",
                    "--locale=C.UTF-8",
                ],
                user=self.user(),
                capture_output=True,
                text=True,
                check=False,
                timeout=120,
            )
        finally:
            pwfile.unlink(missing_ok=True)
        if result.returncode != 0:
            raise ComponentStartError(
                "postgres",
                f"initdb exited {result.returncode}",
                log_tail=(result.stderr or result.stdout)[-2000:],
                fix="check that the state directory is writable by the postgres user",
            )

    def argv(self) -> list[str]:
        """The postmaster on 127.0.0.1 only."""
        return [
            str(postgres_bin_dir() / "postgres"),
            "-D",
            str(self.ctx.layout.postgres_data),
            "-p",
            str(self.ctx.config.ports.postgres),
            "-k",
            str(self.ctx.layout.postgres_socket_dir),
            "-c",
            "listen_addresses=127.0.0.1",
            "-c",
            "max_connections=200",
            "-c",
            "shared_buffers=128MB",
            "-c",
            "logging_collector=off",
        ]

    def env(self) -> dict[str, str]:
        """Environment."""
        return {**self.ctx.base_env(), "HOME": "/tmp"}

    def connect(self, dbname: str = "postgres", *, port: int | None = None) -> psycopg.Connection:
        """A superuser connection (direct, not through a proxy)."""
        return psycopg.connect(
            host="127.0.0.1",
            port=port or self.ctx.config.ports.postgres,
            user=self.ctx.credentials.postgres_superuser,
            password=self.ctx.credentials.postgres_superuser_password,
            dbname=dbname,
            connect_timeout=3,
            autocommit=True,
        )

    def health(self) -> Health:
        """A real query."""
        try:
            with self.connect() as conn:
                conn.execute("SELECT 1")
        except psycopg.Error as exc:
            return Health(False, str(exc).splitlines()[0] if str(exc) else "no answer")
        return Health(True)

    def after_start(self) -> None:
        """Roles and databases for Airflow and the serving layer (idempotent)."""
        creds = self.ctx.credentials
        wanted = (
            (creds.airflow_db_user, creds.airflow_db_password, AIRFLOW_DB),
            (creds.serving_db_user, creds.serving_db_password, default_database()),
        )
        with self.connect() as conn:
            for role, password, database in wanted:
                exists = conn.execute(
                    "SELECT 1 FROM pg_roles WHERE rolname = %s", (role,)
                ).fetchone()
                verb = "ALTER" if exists else "CREATE"
                conn.execute(
                    sql.SQL("{} ROLE {} LOGIN PASSWORD {}").format(
                        sql.SQL(verb), sql.Identifier(role), sql.Literal(password)
                    )
                )
                has_db = conn.execute(
                    "SELECT 1 FROM pg_database WHERE datname = %s", (database,)
                ).fetchone()
                if not has_db:
                    conn.execute(
                        sql.SQL("CREATE DATABASE {} OWNER {}").format(
                            sql.Identifier(database), sql.Identifier(role)
                        )
                    )

    def version(self) -> str:
        """Server version."""
        try:
            with self.connect() as conn:
                row = conn.execute("SHOW server_version").fetchone()
                return str(row[0]).split()[0] if row else "?"
        except psycopg.Error:
            return postgres_bin_dir().parent.name

    def url(self) -> str:
        """Where it listens."""
        return f"postgresql://127.0.0.1:{self.ctx.config.ports.postgres}"
