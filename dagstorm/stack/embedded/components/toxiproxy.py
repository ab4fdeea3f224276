"""Toxiproxy server (built from its Go module) and the stack's proxies."""

from __future__ import annotations

from dagstorm.clients.toxiproxy import ToxiproxyClient
from dagstorm.core.errors import ToxiproxyError
from dagstorm.stack.embedded.components.base import Component, Health
from dagstorm.stack.topology import CELERY_BROKER_LINK, stack_links


class Toxiproxy(Component):
    """The Toxiproxy server; every client link of the stack crosses it."""

    name = "toxiproxy"
    start_timeout = 20.0
    #: A switch to CeleryExecutor adds the celery-broker proxy to a running server.
    reconcile_when_running = True

    def api_url(self) -> str:
        """Toxiproxy's REST API."""
        return f"http://127.0.0.1:{self.ctx.config.ports.toxiproxy_api}"

    def client(self) -> ToxiproxyClient:
        """A client of this server's API."""
        return ToxiproxyClient(self.api_url(), timeout=3.0)

    def argv(self) -> list[str]:
        """API on loopback only."""
        return [
            str(self.ctx.layout.toxiproxy_bin),
            "-host",
            "127.0.0.1",
            "-port",
            str(self.ctx.config.ports.toxiproxy_api),
        ]

    def env(self) -> dict[str, str]:
        """Environment."""
        return {**self.ctx.base_env(), "LOG_LEVEL": "info"}

    def health(self) -> Health:
        """GET /version."""
        try:
            with self.client() as client:
                return Health(True, client.version())
        except ToxiproxyError as exc:
            return Health(False, exc.what)

    def after_start(self) -> None:
        """Create (or correct) one proxy per link, all listening on 127.0.0.1."""
        ports = self.ctx.config.ports.model_dump()
        links = stack_links(self.ctx.config.airflow.executor)
        with self.client() as client:
            for link in links:
                client.ensure_proxy(
                    link.name,
                    listen=f"127.0.0.1:{ports[link.listen_port]}",
                    upstream=f"127.0.0.1:{ports[link.upstream_port]}",
                )
            if CELERY_BROKER_LINK not in links:  # back on LocalExecutor: no broker link
                client.delete_proxy(CELERY_BROKER_LINK.name, missing_ok=True)

    def version(self) -> str:
        """The server's own answer."""
        health = self.health()
        return health.detail if health.ok else "?"

    def url(self) -> str:
        """The API."""
        return self.api_url()
