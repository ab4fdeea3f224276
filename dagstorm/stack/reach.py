"""Does a declared part answer? Quick checks (seconds), run before anything starts.

`dagstorm run` asks this of each part the scenario needs; `dagstorm stack check`
asks it before its slower round trips (a Spark job, a Kafka message), so an
unreachable part fails in seconds with one line. Airflow: a token (so the
credentials are checked too). Kafka, Spark: a TCP connection to the bootstrap
server or the master. Toxiproxy: its API answers. Serving database: a connection.
StatsD and the parts of the embedded stack dagstorm owns have nothing to ask here.
"""

from __future__ import annotations

import socket
from urllib.parse import urlsplit

import httpx
import psycopg

from dagstorm.clients.airflow import fetch_token
from dagstorm.core.errors import ServiceUnreachableError
from dagstorm.stack.endpoints import Stack
from dagstorm.stack.parts import Part, part_text

#: Seconds each quick check may take.
TIMEOUT_S = 5.0


def host_port(address: str, default_port: int) -> tuple[str, int]:
    """``host:port`` of an address (``spark://h:7077``, ``h1:9092,h2:9092``: the first)."""
    first = address.split(",", maxsplit=1)[0].strip()
    parts = urlsplit(first if "://" in first else f"//{first}")
    return parts.hostname or "127.0.0.1", parts.port or default_port


def connect(part: Part, address: str, default_port: int, timeout: float = TIMEOUT_S) -> str:
    """Open (and close) a TCP connection to ``address``; one line if it fails."""
    host, port = host_port(address, default_port)
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return f"{host}:{port} accepts connections"
    except OSError as exc:
        reason = exc.strerror or exc.__class__.__name__
        raise ServiceUnreachableError(
            f"{part_text(part)} does not answer at {host}:{port} ({reason})"
        ) from None


def reach(stack: Stack, part: Part, timeout: float = TIMEOUT_S) -> str:
    """A short answer from ``part`` of ``stack`` (ServiceUnreachableError if none)."""
    match part:
        case "airflow":
            url, username, password = stack.airflow_login()
            fetch_token(url, username, password, timeout=timeout)
            return f"token issued by {url}"
        case "kafka":
            return connect(part, stack.endpoint("kafka"), 9092, timeout)
        case "spark":
            return connect(part, stack.endpoint("spark"), 7077, timeout)
        case "toxiproxy":
            url = stack.endpoint("toxiproxy")
            try:
                version = httpx.get(f"{url}/version", timeout=timeout).raise_for_status().text
            except httpx.HTTPError as exc:
                raise ServiceUnreachableError(
                    f"Toxiproxy does not answer ({exc.__class__.__name__})", where=url
                ) from None
            return f"Toxiproxy {version.strip()}"
        case "serving_db":
            try:
                with psycopg.connect(stack.endpoint("serving_db"), connect_timeout=int(timeout)):
                    return "serving database accepts connections"
            except psycopg.Error as exc:
                first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
                raise ServiceUnreachableError(
                    f"the serving database refuses the connection: {first}"[:240],
                    where="the serving database's DSN",
                ) from None
        case _:
            return "nothing to ask"
