"""ToxiproxyClient against a fake API (httpx.MockTransport): verbs, URLs, bodies, errors."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from dagstorm.clients.toxiproxy import (
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

BASE = "http://toxiproxy.test:8474"

Answer = httpx.Response | Exception
Routes = dict[tuple[str, str], Answer]


class FakeApi:
    """Answers each (method, path) with a canned response and records every request."""

    def __init__(self, routes: Routes) -> None:
        self.routes = routes
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        key = (request.method, request.url.raw_path.decode())
        assert key in self.routes, f"unexpected request {key}"
        answer = self.routes[key]
        if isinstance(answer, Exception):
            raise answer
        return answer

    @property
    def calls(self) -> list[tuple[str, str]]:
        """(method, path) of every request, in order."""
        return [(r.method, r.url.raw_path.decode()) for r in self.requests]

    def body(self, index: int = -1) -> Any:
        """The JSON body of a request (the last by default)."""
        return json.loads(self.requests[index].content)


def make_client(routes: Routes, **kwargs: Any) -> tuple[ToxiproxyClient, FakeApi]:
    api = FakeApi(routes)
    return ToxiproxyClient(BASE, transport=httpx.MockTransport(api), **kwargs), api


def proxy_json(
    name: str = "kafka",
    listen: str = "127.0.0.1:9092",
    upstream: str = "127.0.0.1:19092",
    *,
    enabled: bool = True,
    toxics: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """A proxy as the v2.12 server renders it (including its stray "Logger" field)."""
    return {
        "name": name,
        "listen": listen,
        "upstream": upstream,
        "enabled": enabled,
        "Logger": {},
        "toxics": toxics or [],
    }


LAG = {
    "attributes": {"latency": 300, "jitter": 0},
    "name": "lag",
    "type": "latency",
    "stream": "downstream",
    "toxicity": 1,
}


def error(status: int, message: str) -> httpx.Response:
    return httpx.Response(status, json={"error": message, "status": status})


# -- toxic helpers and validation ------------------------------------------------


@pytest.mark.parametrize(
    ("toxic", "toxic_type", "attributes"),
    [
        (latency(300, 20), "latency", {"latency": 300, "jitter": 20}),
        (bandwidth(64), "bandwidth", {"rate": 64}),
        (slow_close(500), "slow_close", {"delay": 500}),
        (timeout(0), "timeout", {"timeout": 0}),
        (reset_peer(100), "reset_peer", {"timeout": 100}),
        (slicer(100, 10, 50), "slicer", {"average_size": 100, "size_variation": 10, "delay": 50}),
        (limit_data(1024), "limit_data", {"bytes": 1024}),
    ],
)
def test_helpers_build_the_server_attributes(
    toxic: Toxic, toxic_type: str, attributes: dict[str, int]
) -> None:
    assert toxic.type == toxic_type
    assert toxic.attributes == attributes
    assert toxic.name == f"{toxic_type}_downstream"  # the server's default name
    assert (toxic.stream, toxic.toxicity) == ("downstream", 1.0)


def test_helpers_take_name_stream_and_toxicity() -> None:
    toxic = latency(100, name="kafka-lag", stream="upstream", toxicity=0.25)
    assert (toxic.name, toxic.stream, toxic.toxicity) == ("kafka-lag", "upstream", 0.25)


@pytest.mark.parametrize(
    "build",
    [
        lambda: latency(-1),
        lambda: latency(100, -5),
        lambda: latency(1.5),  # type: ignore[arg-type]
        lambda: latency(True),
        lambda: bandwidth(-1),
        lambda: slow_close(-1),
        lambda: timeout(-1),
        lambda: reset_peer(-1),
        lambda: limit_data(-1),
        lambda: slicer(0),
        lambda: slicer(10, 10),
        lambda: slicer(10, -1),
        lambda: latency(100, toxicity=1.5),
        lambda: latency(100, toxicity=-0.1),
        lambda: latency(100, stream="sideways"),  # type: ignore[arg-type]
        lambda: latency(100, name=""),
        lambda: Toxic(name="t", type="latency", attributes={"latency": 1}),  # jitter missing
        lambda: Toxic(name="t", type="latency", attributes={"latency": 1, "jitter": 0, "ms": 1}),
        lambda: Toxic(name="t", type="flood", attributes={}),  # type: ignore[arg-type]  # not a toxic type
    ],
)
def test_invalid_toxics_are_refused_before_anything_is_sent(build: Callable[[], Toxic]) -> None:
    with pytest.raises(ValueError):
        build()


def test_proxy_spec_needs_a_listen_address() -> None:
    # An empty listen makes the server bind every interface.
    with pytest.raises(ValueError):
        ProxySpec(name="kafka", listen="", upstream="127.0.0.1:19092")


# -- requests --------------------------------------------------------------------


def test_every_request_carries_the_timeout() -> None:
    client, api = make_client(
        {("GET", "/version"): httpx.Response(200, json={"version": "2.12.0"})}, timeout=2.5
    )
    assert client.version() == "2.12.0"
    assert api.requests[0].extensions["timeout"] == dict.fromkeys(
        ("connect", "read", "write", "pool"), 2.5
    )


def test_base_url_trailing_slash_is_ignored() -> None:
    api = FakeApi({("POST", "/reset"): httpx.Response(204)})
    with ToxiproxyClient(BASE + "/", transport=httpx.MockTransport(api)) as client:
        client.reset()
    assert api.calls == [("POST", "/reset")]


def test_list_proxies_parses_the_map_sorted_by_name() -> None:
    body = {
        "kafka": proxy_json("kafka", toxics=[LAG]),
        "airflow-db": proxy_json("airflow-db", "127.0.0.1:15432", "127.0.0.1:5433"),
    }
    client, _ = make_client({("GET", "/proxies"): httpx.Response(200, json=body)})
    proxies = client.list_proxies()
    assert [p.name for p in proxies] == ["airflow-db", "kafka"]
    assert proxies[1].toxics == (latency(300, name="lag"),)


def test_create_proxy_posts_the_spec() -> None:
    client, api = make_client({("POST", "/proxies"): httpx.Response(201, json=proxy_json())})
    proxy = client.create_proxy("kafka", "127.0.0.1:9092", "127.0.0.1:19092")
    assert api.body() == {
        "name": "kafka",
        "listen": "127.0.0.1:9092",
        "upstream": "127.0.0.1:19092",
        "enabled": True,
    }
    assert (proxy.name, proxy.enabled, proxy.toxics) == ("kafka", True, ())


def test_create_existing_proxy_raises_409() -> None:
    client, _ = make_client({("POST", "/proxies"): error(409, "proxy already exists")})
    with pytest.raises(ToxiproxyError) as caught:
        client.create_proxy("kafka", "127.0.0.1:9092", "127.0.0.1:19092")
    assert caught.value.status == 409
    assert "proxy already exists" in caught.value.what
    assert caught.value.where == f"{BASE}/proxies"


def test_update_proxy_patches_only_the_given_fields() -> None:
    answer = httpx.Response(200, json=proxy_json(upstream="127.0.0.1:29092"))
    client, api = make_client({("PATCH", "/proxies/kafka"): answer})
    client.update_proxy("kafka", upstream="127.0.0.1:29092")
    assert api.body() == {"upstream": "127.0.0.1:29092"}
    with pytest.raises(ValueError):
        client.update_proxy("kafka")


@pytest.mark.parametrize(("method", "enabled"), [("disable_proxy", False), ("enable_proxy", True)])
def test_disable_and_enable_patch_enabled(method: str, enabled: bool) -> None:
    answer = httpx.Response(200, json=proxy_json(enabled=enabled))
    client, api = make_client({("PATCH", "/proxies/kafka"): answer})
    proxy = getattr(client, method)("kafka")
    assert api.body() == {"enabled": enabled}
    assert proxy.enabled is enabled


def test_names_are_quoted_in_paths() -> None:
    client, api = make_client({("DELETE", "/proxies/a%2Fb/toxics/x%20y"): httpx.Response(204)})
    client.remove_toxic("a/b", "x y")
    assert api.calls == [("DELETE", "/proxies/a%2Fb/toxics/x%20y")]


# -- ensure_proxy ----------------------------------------------------------------


def test_ensure_proxy_creates_a_missing_proxy() -> None:
    client, api = make_client(
        {
            ("GET", "/proxies/kafka"): error(404, "proxy not found"),
            ("POST", "/proxies"): httpx.Response(201, json=proxy_json()),
        }
    )
    client.ensure_proxy("kafka", listen="127.0.0.1:9092", upstream="127.0.0.1:19092")
    assert api.calls == [("GET", "/proxies/kafka"), ("POST", "/proxies")]


def test_ensure_proxy_leaves_a_matching_proxy_alone() -> None:
    client, api = make_client({("GET", "/proxies/kafka"): httpx.Response(200, json=proxy_json())})
    proxy = client.ensure_proxy("kafka", listen="127.0.0.1:9092", upstream="127.0.0.1:19092")
    assert api.calls == [("GET", "/proxies/kafka")]
    assert proxy.listen == "127.0.0.1:9092"


def test_ensure_proxy_port_zero_matches_the_port_the_server_picked() -> None:
    answer = httpx.Response(200, json=proxy_json(listen="127.0.0.1:41234"))
    client, api = make_client({("GET", "/proxies/kafka"): answer})
    client.ensure_proxy("kafka", listen="127.0.0.1:0", upstream="127.0.0.1:19092")
    assert api.calls == [("GET", "/proxies/kafka")]


def test_ensure_proxy_patches_only_what_differs() -> None:
    client, api = make_client(
        {
            ("GET", "/proxies/kafka"): httpx.Response(200, json=proxy_json(enabled=False)),
            ("PATCH", "/proxies/kafka"): httpx.Response(
                200, json=proxy_json(upstream="127.0.0.1:29092")
            ),
        }
    )
    client.ensure_proxy("kafka", listen="127.0.0.1:9092", upstream="127.0.0.1:29092")
    assert api.calls == [("GET", "/proxies/kafka"), ("PATCH", "/proxies/kafka")]
    assert api.body() == {"upstream": "127.0.0.1:29092", "enabled": True}


def test_ensure_proxy_does_not_create_when_the_server_fails() -> None:
    client, api = make_client({("GET", "/proxies/kafka"): error(500, "boom")})
    with pytest.raises(ToxiproxyError) as caught:
        client.ensure_proxy("kafka", listen="127.0.0.1:9092", upstream="127.0.0.1:19092")
    assert caught.value.status == 500
    assert api.calls == [("GET", "/proxies/kafka")]


# -- deleting and removing -------------------------------------------------------


def test_delete_proxy() -> None:
    client, api = make_client({("DELETE", "/proxies/kafka"): httpx.Response(204)})
    client.delete_proxy("kafka")
    assert api.calls == [("DELETE", "/proxies/kafka")]


@pytest.mark.parametrize(
    ("call", "path"),
    [
        (lambda c, ok: c.delete_proxy("kafka", missing_ok=ok), "/proxies/kafka"),
        (lambda c, ok: c.remove_toxic("kafka", "lag", missing_ok=ok), "/proxies/kafka/toxics/lag"),
    ],
)
def test_missing_is_an_error_unless_missing_ok(
    call: Callable[[ToxiproxyClient, bool], None], path: str
) -> None:
    client, _ = make_client({("DELETE", path): error(404, "toxic not found")})
    with pytest.raises(ToxiproxyError) as caught:
        call(client, False)
    assert caught.value.status == 404
    call(client, True)


def test_missing_ok_does_not_hide_other_errors() -> None:
    path = "/proxies/kafka/toxics/lag"
    client, _ = make_client({("DELETE", path): error(500, "boom")})
    with pytest.raises(ToxiproxyError) as caught:
        client.remove_toxic("kafka", "lag", missing_ok=True)
    assert caught.value.status == 500


# -- toxics ----------------------------------------------------------------------


def test_add_toxic_posts_the_toxic() -> None:
    client, api = make_client({("POST", "/proxies/kafka/toxics"): httpx.Response(200, json=LAG)})
    added = client.add_toxic("kafka", latency(300, name="lag"))
    assert api.body() == LAG
    assert added == latency(300, name="lag")


def test_list_and_get_toxics() -> None:
    client, _ = make_client(
        {
            ("GET", "/proxies/kafka/toxics"): httpx.Response(200, json=[LAG]),
            ("GET", "/proxies/kafka/toxics/lag"): httpx.Response(200, json=LAG),
        }
    )
    assert client.list_toxics("kafka") == [latency(300, name="lag")]
    assert client.get_toxic("kafka", "lag") == latency(300, name="lag")


def test_values_set_by_another_client_are_read_as_they_are() -> None:
    odd = {**LAG, "toxicity": 1.5, "attributes": {"latency": -5, "jitter": 0}}
    client, _ = make_client({("GET", "/proxies/kafka/toxics"): httpx.Response(200, json=[odd])})
    [toxic] = client.list_toxics("kafka")
    assert (toxic.toxicity, toxic.attributes["latency"]) == (1.5, -5)


def test_update_toxic_patches_only_the_changes() -> None:
    updated = {**LAG, "attributes": {"latency": 800, "jitter": 0}}
    client, api = make_client(
        {
            ("GET", "/proxies/kafka/toxics/lag"): httpx.Response(200, json=LAG),
            ("PATCH", "/proxies/kafka/toxics/lag"): httpx.Response(200, json=updated),
        }
    )
    toxic = client.update_toxic("kafka", "lag", attributes={"latency": 800}, toxicity=0.5)
    assert api.calls[-1] == ("PATCH", "/proxies/kafka/toxics/lag")
    assert api.body() == {"attributes": {"latency": 800}, "toxicity": 0.5}
    assert toxic.attributes == {"latency": 800, "jitter": 0}


@pytest.mark.parametrize(
    ("attributes", "toxicity"),
    [
        ({"latency_ms": 800}, None),  # the server would ignore it without a word
        ({"rate": 10}, None),  # a bandwidth attribute, not a latency one
        ({"latency": -1}, None),
        (None, 2.0),
        (None, None),
    ],
)
def test_update_toxic_checks_before_patching(
    attributes: dict[str, int] | None, toxicity: float | None
) -> None:
    client, api = make_client({("GET", "/proxies/kafka/toxics/lag"): httpx.Response(200, json=LAG)})
    with pytest.raises(ValueError):
        client.update_toxic("kafka", "lag", attributes=attributes, toxicity=toxicity)
    assert ("PATCH", "/proxies/kafka/toxics/lag") not in api.calls


def test_update_toxic_checks_the_merged_slicer() -> None:
    sliced = slicer(100, 10, name="s").model_dump()
    client, _ = make_client({("GET", "/proxies/p/toxics/s"): httpx.Response(200, json=sliced)})
    with pytest.raises(ValueError, match="size_variation"):
        client.update_toxic("p", "s", attributes={"average_size": 10})


def test_update_missing_toxic_raises_404() -> None:
    client, _ = make_client({("GET", "/proxies/kafka/toxics/lag"): error(404, "toxic not found")})
    with pytest.raises(ToxiproxyError) as caught:
        client.update_toxic("kafka", "lag", toxicity=0.5)
    assert caught.value.status == 404


# -- populate and reset ----------------------------------------------------------


def test_populate_posts_the_list() -> None:
    specs = [
        ProxySpec(name="kafka", listen="127.0.0.1:9092", upstream="127.0.0.1:19092"),
        ProxySpec(name="db", listen="127.0.0.1:15432", upstream="127.0.0.1:5433", enabled=False),
    ]
    answer = httpx.Response(
        201,
        json={"proxies": [proxy_json(), proxy_json("db", "127.0.0.1:15432", "127.0.0.1:5433")]},
    )
    client, api = make_client({("POST", "/populate"): answer})
    proxies = client.populate(specs)
    assert api.body() == [spec.model_dump() for spec in specs]
    assert [p.name for p in proxies] == ["kafka", "db"]


def test_populate_nothing_answers_null() -> None:
    answer = httpx.Response(201, json={"proxies": None})
    client, _ = make_client({("POST", "/populate"): answer})
    assert client.populate([]) == []


def test_populate_error_is_raised() -> None:
    body = {"error": "listen tcp: bad address", "status": 500, "proxies": [proxy_json()]}
    client, _ = make_client({("POST", "/populate"): httpx.Response(500, json=body)})
    with pytest.raises(ToxiproxyError, match="bad address"):
        client.populate([ProxySpec(name="x", listen="bad", upstream="127.0.0.1:1")])


def test_reset_posts_reset() -> None:
    client, api = make_client({("POST", "/reset"): httpx.Response(204)})
    client.reset()
    assert api.calls == [("POST", "/reset")]


# -- failures --------------------------------------------------------------------


def test_server_error_names_status_message_and_url() -> None:
    client, _ = make_client({("GET", "/proxies/kafka"): error(500, "boom")})
    with pytest.raises(ToxiproxyError) as caught:
        client.get_proxy("kafka")
    assert caught.value.status == 500
    assert caught.value.where == f"{BASE}/proxies/kafka"
    assert "HTTP 500" in caught.value.what
    assert "boom" in caught.value.what


def test_error_without_json_body_uses_the_reason() -> None:
    client, _ = make_client({("GET", "/proxies/kafka"): httpx.Response(405)})
    with pytest.raises(ToxiproxyError, match="Method Not Allowed") as caught:
        client.get_proxy("kafka")
    assert caught.value.status == 405


def test_timeout_raises_toxiproxy_error() -> None:
    client, _ = make_client({("GET", "/version"): httpx.ReadTimeout("timed out")}, timeout=0.5)
    with pytest.raises(ToxiproxyError) as caught:
        client.version()
    assert caught.value.status is None
    assert caught.value.where == f"{BASE}/version"
    assert "within 0.5 s" in caught.value.what


def test_unreachable_server_raises_toxiproxy_error() -> None:
    answer = httpx.ConnectError("[Errno 111] Connection refused")
    client, _ = make_client({("GET", "/proxies"): answer})
    with pytest.raises(ToxiproxyError, match="cannot reach Toxiproxy") as caught:
        client.list_proxies()
    assert caught.value.where == f"{BASE}/proxies"


@pytest.mark.parametrize("content", [b"not json", b'{"name": "kafka"}', b"[]"])
def test_unexpected_answer_raises_toxiproxy_error(content: bytes) -> None:
    client, _ = make_client({("GET", "/proxies/kafka"): httpx.Response(200, content=content)})
    with pytest.raises(ToxiproxyError, match="unexpected answer"):
        client.get_proxy("kafka")
