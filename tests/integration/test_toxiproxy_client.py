"""ToxiproxyClient against the real Toxiproxy server (fixture ``toxiproxy_url``).

Each test makes its own ``test-...`` proxy in front of a small TCP echo server and
deletes it afterwards. Timing checks are one-sided: a toxic of N ms must delay
the round trip by at least N ms; without it the round trip must be well under N.
"""

from __future__ import annotations

import socket
import socketserver
import threading
import time
import uuid
from collections.abc import Iterator

import pytest

from dagstorm.clients.toxiproxy import (
    Proxy,
    ProxySpec,
    Toxic,
    ToxiproxyClient,
    bandwidth,
    latency,
    limit_data,
    reset_peer,
    slicer,
    slow_close,
    timeout,
)
from dagstorm.core.errors import ToxiproxyError

pytestmark = pytest.mark.integration

LATENCY_MS = 300


class _EchoHandler(socketserver.BaseRequestHandler):
    def handle(self) -> None:
        while data := self.request.recv(4096):
            self.request.sendall(data)


class _EchoServer(socketserver.ThreadingTCPServer):
    daemon_threads = True  # connections the proxy holds open must not block shutdown


@pytest.fixture
def echo_address() -> Iterator[str]:
    """A TCP echo server on 127.0.0.1, as ``host:port``."""
    with _EchoServer(("127.0.0.1", 0), _EchoHandler) as server:
        thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        thread.start()
        yield f"127.0.0.1:{server.server_address[1]}"
        server.shutdown()
        thread.join(timeout=5)


@pytest.fixture
def client(toxiproxy_url: str) -> Iterator[ToxiproxyClient]:
    with ToxiproxyClient(toxiproxy_url) as client:
        yield client


@pytest.fixture
def proxy_name(client: ToxiproxyClient) -> Iterator[str]:
    """A fresh ``test-`` proxy name; the proxy, if created, is deleted afterwards."""
    name = f"test-{uuid.uuid4().hex[:8]}"
    yield name
    client.delete_proxy(name, missing_ok=True)


@pytest.fixture
def proxy(client: ToxiproxyClient, proxy_name: str, echo_address: str) -> Proxy:
    """An enabled proxy in front of the echo server, on a port the server picks."""
    return client.create_proxy(proxy_name, "127.0.0.1:0", echo_address)


def round_trip(address: str) -> float:
    """Seconds to send a line through ``address`` and read it back on a new connection."""
    host, _, port = address.rpartition(":")
    message = b"ping\n"
    with socket.create_connection((host, int(port)), timeout=10) as conn:
        started = time.monotonic()
        conn.sendall(message)
        received = b""
        while len(received) < len(message):
            chunk = conn.recv(4096)
            assert chunk, "the connection closed before the echo came back"
            received += chunk
        return time.monotonic() - started


def test_version_answers(client: ToxiproxyClient) -> None:
    assert client.version()


def test_proxy_forwards_to_upstream(client: ToxiproxyClient, proxy: Proxy) -> None:
    assert proxy.enabled
    assert proxy.listen.startswith("127.0.0.1:")
    assert not proxy.listen.endswith(":0")
    assert round_trip(proxy.listen) < LATENCY_MS / 1000
    assert proxy.name in [p.name for p in client.list_proxies()]
    assert client.get_proxy(proxy.name) == proxy


def test_latency_toxic_delays_the_round_trip(client: ToxiproxyClient, proxy: Proxy) -> None:
    client.add_toxic(proxy.name, latency(LATENCY_MS, name="lag"))
    assert round_trip(proxy.listen) >= LATENCY_MS / 1000

    client.remove_toxic(proxy.name, "lag")
    assert round_trip(proxy.listen) < LATENCY_MS / 1000


def test_update_toxic_changes_the_latency(client: ToxiproxyClient, proxy: Proxy) -> None:
    client.add_toxic(proxy.name, latency(50, name="lag"))
    assert round_trip(proxy.listen) < LATENCY_MS / 1000

    updated = client.update_toxic(proxy.name, "lag", attributes={"latency": LATENCY_MS})
    assert updated.attributes == {"latency": LATENCY_MS, "jitter": 0}
    assert client.get_toxic(proxy.name, "lag") == updated
    assert round_trip(proxy.listen) >= LATENCY_MS / 1000


def test_update_toxic_keeps_what_is_not_given(client: ToxiproxyClient, proxy: Proxy) -> None:
    client.add_toxic(proxy.name, latency(100, 10, name="lag", stream="upstream"))
    updated = client.update_toxic(proxy.name, "lag", toxicity=0.5)
    assert updated == latency(100, 10, name="lag", stream="upstream", toxicity=0.5)


def test_disabled_proxy_refuses_connections(client: ToxiproxyClient, proxy: Proxy) -> None:
    assert not client.disable_proxy(proxy.name).enabled
    with pytest.raises(ConnectionRefusedError):
        round_trip(proxy.listen)

    assert client.enable_proxy(proxy.name).enabled
    assert round_trip(proxy.listen) < LATENCY_MS / 1000


def test_reset_enables_proxies_and_clears_toxics(client: ToxiproxyClient, proxy: Proxy) -> None:
    # Note: reset acts on every proxy of the server, not only this test's.
    client.add_toxic(proxy.name, latency(LATENCY_MS, name="lag"))
    client.disable_proxy(proxy.name)

    client.reset()

    after = client.get_proxy(proxy.name)
    assert after.enabled
    assert after.toxics == ()
    assert round_trip(proxy.listen) < LATENCY_MS / 1000


@pytest.mark.parametrize(
    "toxic",
    [
        latency(100, 10),
        bandwidth(64, stream="upstream"),
        slow_close(100),
        timeout(0, toxicity=0.5),
        reset_peer(100),
        slicer(100, 10, 50),
        limit_data(1024),
    ],
    ids=lambda toxic: toxic.type,
)
def test_every_toxic_type_is_stored_as_sent(
    client: ToxiproxyClient, proxy: Proxy, toxic: Toxic
) -> None:
    assert client.add_toxic(proxy.name, toxic) == toxic
    assert client.list_toxics(proxy.name) == [toxic]


def test_duplicates_and_missing_names_raise(client: ToxiproxyClient, proxy: Proxy) -> None:
    with pytest.raises(ToxiproxyError) as caught:
        client.create_proxy(proxy.name, "127.0.0.1:0", proxy.upstream)
    assert caught.value.status == 409

    client.add_toxic(proxy.name, latency(10, name="lag"))
    with pytest.raises(ToxiproxyError) as caught:
        client.add_toxic(proxy.name, latency(10, name="lag"))
    assert caught.value.status == 409

    for call in (
        lambda: client.get_proxy("test-missing-proxy"),
        lambda: client.get_toxic(proxy.name, "missing"),
        lambda: client.update_toxic(proxy.name, "missing", toxicity=0.5),
        lambda: client.remove_toxic(proxy.name, "missing"),
        lambda: client.remove_toxic("test-missing-proxy", "lag"),
        lambda: client.delete_proxy("test-missing-proxy"),
    ):
        with pytest.raises(ToxiproxyError) as caught:
            call()
        assert caught.value.status == 404


def test_missing_ok_makes_removal_idempotent(client: ToxiproxyClient, proxy: Proxy) -> None:
    client.add_toxic(proxy.name, latency(10, name="lag"))
    client.remove_toxic(proxy.name, "lag", missing_ok=True)
    client.remove_toxic(proxy.name, "lag", missing_ok=True)
    client.remove_toxic("test-missing-proxy", "lag", missing_ok=True)
    assert client.list_toxics(proxy.name) == []

    client.delete_proxy(proxy.name, missing_ok=True)
    client.delete_proxy(proxy.name, missing_ok=True)
    with pytest.raises(ToxiproxyError):
        client.get_proxy(proxy.name)


def test_ensure_proxy_is_idempotent(
    client: ToxiproxyClient, proxy_name: str, echo_address: str
) -> None:
    created = client.ensure_proxy(proxy_name, "127.0.0.1:0", echo_address)
    client.add_toxic(proxy_name, latency(10, name="lag"))

    again = client.ensure_proxy(proxy_name, "127.0.0.1:0", echo_address)
    assert again.listen == created.listen  # port 0 matched the port the server picked
    assert [t.name for t in again.toxics] == ["lag"]


def test_ensure_proxy_corrects_a_differing_proxy(
    client: ToxiproxyClient, proxy: Proxy, echo_address: str
) -> None:
    client.add_toxic(proxy.name, latency(10, name="lag"))
    client.update_proxy(proxy.name, upstream="127.0.0.1:9", enabled=False)

    fixed = client.ensure_proxy(proxy.name, proxy.listen, echo_address)

    assert (fixed.listen, fixed.upstream, fixed.enabled) == (proxy.listen, echo_address, True)
    assert [t.name for t in fixed.toxics] == ["lag"]
    assert round_trip(fixed.listen) < LATENCY_MS / 1000


def test_populate_creates_proxies(
    client: ToxiproxyClient, proxy_name: str, echo_address: str
) -> None:
    other = f"{proxy_name}-b"
    try:
        populated = client.populate(
            [
                ProxySpec(name=proxy_name, listen="127.0.0.1:0", upstream=echo_address),
                ProxySpec(name=other, listen="127.0.0.1:0", upstream=echo_address, enabled=False),
            ]
        )
        assert [(p.name, p.enabled) for p in populated] == [(proxy_name, True), (other, False)]
        assert round_trip(client.get_proxy(proxy_name).listen) < LATENCY_MS / 1000
    finally:
        client.delete_proxy(other, missing_ok=True)
