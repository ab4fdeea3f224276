"""How a worker in its own namespace reaches the stack: per-host Toxiproxy links.

The stack's services listen on 127.0.0.1, which a namespace cannot reach. Each
worker host gets its own Toxiproxy proxies, listening on the host-side veth
address with the *same port numbers* as the stack-wide links (a different
address, so no clash): ``celery-broker@w1``, ``airflow-db@w1``, ``airflow-api@w1``.
A fault on one of them touches that host only; a fault on the stack-wide link
(``celery-broker``) still touches the scheduler and every plain worker.

:func:`worker_env` turns the stack's Airflow environment into the worker's: the
broker, the result backend, the metadata database and the execution API go to
the host address and its proxies.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from dagstorm.core.errors import WorkerHostError
from dagstorm.stack.config import Ports
from dagstorm.stack.embedded.hosts.plan import HostPlan
from dagstorm.stack.topology import CELERY_BROKER_LINK, LINKS, Link

_BY_NAME: dict[str, Link] = {link.name: link for link in (*LINKS, CELERY_BROKER_LINK)}
#: The stack-wide links each worker host gets its own copy of.
HOST_LINKS: tuple[Link, ...] = tuple(
    _BY_NAME[name] for name in ("celery-broker", "airflow-db", "airflow-api")
)

#: Worker environment variables → the link their address goes through.
REWRITTEN: dict[str, str] = {
    "AIRFLOW__CELERY__BROKER_URL": "celery-broker",
    "AIRFLOW__CELERY__RESULT_BACKEND": "airflow-db",
    "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": "airflow-db",
    "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": "airflow-api",
}


def host_proxy_name(link: str, index: int) -> str:
    """The per-host proxy of ``link`` for worker host ``index`` (``celery-broker@w1``)."""
    return f"{link}@w{index}"


@dataclass(frozen=True)
class HostProxy:
    """One per-host Toxiproxy proxy (arguments of ``ToxiproxyClient.ensure_proxy``)."""

    name: str
    listen: str
    upstream: str
    #: The stack-wide link it copies.
    link: str


def host_proxies(plan: HostPlan, ports: Ports) -> tuple[HostProxy, ...]:
    """The proxies worker host ``plan`` needs: on its host address, to the services."""
    numbers = ports.model_dump()
    return tuple(
        HostProxy(
            name=host_proxy_name(link.name, plan.index),
            listen=f"{plan.host_ip}:{numbers[link.listen_port]}",
            upstream=f"127.0.0.1:{numbers[link.upstream_port]}",
            link=link.name,
        )
        for link in HOST_LINKS
    )


def worker_env(plan: HostPlan, env: Mapping[str, str], ports: Ports) -> dict[str, str]:
    """``env`` for a worker inside ``plan``'s namespace: addresses through its own proxies.

    Each variable of :data:`REWRITTEN` present in ``env`` must name 127.0.0.1 with the
    link's listen port (or, for the execution API, the api-server's own port); it is
    rewritten to the host address and the link's listen port. A variable that names
    neither raises, so a change to the stack's environment cannot leave a worker
    pointed at an address its namespace does not have.
    """
    numbers = ports.model_dump()
    out = dict(env)
    for key, link_name in REWRITTEN.items():
        if key not in env:
            continue
        link = _BY_NAME[link_name]
        listen, upstream = numbers[link.listen_port], numbers[link.upstream_port]
        target = f"{plan.host_ip}:{listen}"
        value = env[key]
        for source in (f"127.0.0.1:{listen}", f"127.0.0.1:{upstream}"):
            if source in value:
                out[key] = value.replace(source, target)
                break
        else:
            raise WorkerHostError(
                f"{key} does not point at 127.0.0.1:{listen} (the {link_name} link); "
                f"worker host w{plan.index} cannot rewrite it"
            )
    return out
