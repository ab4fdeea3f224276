"""Redis from Debian's package: the Celery broker of a CeleryExecutor stack.

It listens on 127.0.0.1 only and asks for a password (generated with the stack's
other credentials); the password lives in a 0600 config file, never on a command
line. Nothing is persisted: a restarted broker starts empty, as a broker that lost
its host would (Celery then re-sends what its ``visibility_timeout`` covers).
Airflow and the workers reach it only through the Toxiproxy ``celery-broker`` link.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from dagstorm.clients.redis import BrokerClient, RedisUnreachable
from dagstorm.core.errors import InstallError
from dagstorm.stack.credentials import write_secret_file
from dagstorm.stack.embedded.components.base import Component, Health

#: Where Debian installs the server.
REDIS_SERVER = "redis-server"


def redis_server() -> str:
    """The redis-server binary (raises :class:`InstallError` when it is missing)."""
    found = shutil.which(REDIS_SERVER) or (
        "/usr/bin/redis-server" if Path("/usr/bin/redis-server").exists() else None
    )
    if found is None:
        raise InstallError(
            "redis-server is not installed (the Celery broker)",
            fix="`dagstorm stack install` (Debian: apt-get install redis-server)",
        )
    return found


class Redis(Component):
    """``redis-server`` with a generated config: loopback, password, no persistence."""

    name = "redis"
    depends_on = ("toxiproxy",)
    start_timeout = 30.0

    @property
    def _conf(self) -> Path:
        return self.ctx.layout.secrets_dir / "redis.conf"

    def prepare(self) -> None:
        """Write the config (0600: it holds the password)."""
        data = self.ctx.layout.root / "redis"
        data.mkdir(parents=True, exist_ok=True)
        lines = [
            "bind 127.0.0.1",
            f"port {self.ctx.config.ports.redis}",
            "protected-mode yes",
            f"requirepass {self.ctx.credentials.redis_password}",
            f"dir {data}",
            'save ""',
            "appendonly no",
            "daemonize no",
            'logfile ""',
            "databases 4",
        ]
        write_secret_file(self._conf, "\n".join(lines) + "\n")

    def argv(self) -> list[str]:
        """``redis-server <config>``."""
        return [redis_server(), str(self._conf)]

    def env(self) -> dict[str, str]:
        """A minimal environment."""
        return self.ctx.base_env()

    def client(self) -> BrokerClient:
        """Straight to the server (not through the proxy): the component's own health."""
        return BrokerClient(
            "127.0.0.1", self.ctx.config.ports.redis, self.ctx.credentials.redis_password
        )

    def health(self) -> Health:
        """PING with the password."""
        try:
            with self.client() as client:
                client.ping()
                return Health(True, "PONG")
        except RedisUnreachable as exc:
            return Health(False, str(exc))

    def version(self) -> str:
        """The server's own answer."""
        try:
            with self.client() as client:
                return client.version()
        except RedisUnreachable:
            return "?"

    def url(self) -> str:
        """Where Celery reaches it: through the ``celery-broker`` proxy."""
        return f"redis://127.0.0.1:{self.ctx.config.ports.celery_broker}/0"
