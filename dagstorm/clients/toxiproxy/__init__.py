"""A small typed client of the Toxiproxy REST API (server v2.12).

Why dagstorm has its own client instead of toxiproxy-python:
docs/decisions/0001-own-toxiproxy-client.md. In short: every request has a
timeout, every failure (an HTTP error, a timeout, no server) raises
:class:`~dagstorm.core.errors.ToxiproxyError` naming the URL, and updates use PATCH,
the verb the server asks for (it logs POST updates as deprecated).

What we send is validated first (toxicity in [0, 1], attributes known to the
toxic's type, non-negative integers), because the server accepts a toxicity of
1.5 or a latency of -5 without a word. What the server reports is taken as it is.

Example::

    with ToxiproxyClient("http://127.0.0.1:8474") as client:
        client.add_toxic("kafka", latency(300, jitter_ms=50, name="kafka-lag"))
        ...
        client.remove_toxic("kafka", "kafka-lag", missing_ok=True)

:mod:`.models` holds what is sent and received (proxies, toxics, their checks and
the toxic helpers), :mod:`.client` the :class:`ToxiproxyClient`; both are
re-exported here, the package's public names.
"""

from dagstorm.clients.toxiproxy.client import DEFAULT_TIMEOUT, ToxiproxyClient
from dagstorm.clients.toxiproxy.models import (
    TOXIC_ATTRIBUTES,
    Proxy,
    ProxySpec,
    Stream,
    Toxic,
    ToxicType,
    bandwidth,
    latency,
    limit_data,
    reset_peer,
    slicer,
    slow_close,
    timeout,
)

__all__ = [
    "DEFAULT_TIMEOUT",
    "TOXIC_ATTRIBUTES",
    "Proxy",
    "ProxySpec",
    "Stream",
    "Toxic",
    "ToxicType",
    "ToxiproxyClient",
    "bandwidth",
    "latency",
    "limit_data",
    "reset_peer",
    "slicer",
    "slow_close",
    "timeout",
]
