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
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from types import TracebackType
from typing import Literal, Self, TypeVar
from urllib.parse import quote

import httpx
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictInt,
    TypeAdapter,
    ValidationError,
    ValidationInfo,
    model_validator,
)

from dagstorm.core.errors import ToxiproxyError

#: Seconds every request may take, connecting included.
DEFAULT_TIMEOUT = 5.0

#: Direction a toxic acts on: ``upstream`` is client → server, ``downstream`` server → client.
Stream = Literal["upstream", "downstream"]

#: The toxic types a v2.12 server knows (``noop`` does nothing; the server has it for tests).
ToxicType = Literal[
    "latency", "bandwidth", "slow_close", "timeout", "reset_peer", "slicer", "limit_data", "noop"
]

#: The attributes of each toxic type, as the server names them; all are integers >= 0.
TOXIC_ATTRIBUTES: Mapping[ToxicType, frozenset[str]] = {
    "latency": frozenset({"latency", "jitter"}),  # ms
    "bandwidth": frozenset({"rate"}),  # KB/s
    "slow_close": frozenset({"delay"}),  # ms
    "timeout": frozenset({"timeout"}),  # ms, 0 = hold the connection until removed
    "reset_peer": frozenset({"timeout"}),  # ms before the reset, 0 = at once
    "slicer": frozenset({"average_size", "size_variation", "delay"}),  # bytes, bytes, µs
    "limit_data": frozenset({"bytes"}),
    "noop": frozenset(),
}

# Validation context marking data read from the server: accepted without our checks,
# since another client may have set values we would refuse to send.
_FROM_SERVER = {"from_server": True}


def _check_toxic(toxic_type: ToxicType, attributes: Mapping[str, int], toxicity: float) -> None:
    """Raise ValueError unless the server would apply these values as meant."""
    if not 0.0 <= toxicity <= 1.0:
        raise ValueError(f"toxicity must be between 0 and 1, got {toxicity}")
    known = TOXIC_ATTRIBUTES[toxic_type]
    if unknown := sorted(attributes.keys() - known):
        raise ValueError(
            f"a {toxic_type} toxic has no attribute {', '.join(unknown)}"
            f" (it takes: {', '.join(sorted(known)) or 'none'})"
        )
    if missing := sorted(known - attributes.keys()):
        raise ValueError(f"a {toxic_type} toxic needs attribute {', '.join(missing)}")
    for key, value in attributes.items():
        if value < 0:
            raise ValueError(f"{toxic_type} attribute {key} must be >= 0, got {value}")
    # The server splits data forever with average_size 0 and wants the variation below it.
    if toxic_type == "slicer" and not (
        0 <= attributes["size_variation"] < attributes["average_size"]
    ):
        raise ValueError("slicer needs 0 <= size_variation < average_size, and average_size >= 1")


class Toxic(BaseModel):
    """A toxic: one kind of trouble on one direction of a proxy's connections.

    Build one with the helpers (:func:`latency`, :func:`bandwidth`, ...). Like the
    server, they name a toxic ``<type>_<stream>`` unless given a name.
    """

    model_config = ConfigDict(frozen=True)

    name: str = Field(min_length=1)
    type: ToxicType
    stream: Stream = "downstream"
    toxicity: float = 1.0
    """Share of connections the toxic applies to, from 0 to 1."""
    attributes: dict[str, StrictInt]

    @model_validator(mode="after")
    def _check_values(self, info: ValidationInfo) -> Self:
        if info.context != _FROM_SERVER:
            _check_toxic(self.type, self.attributes, self.toxicity)
        return self


class ProxySpec(BaseModel):
    """A proxy as wanted: clients connect to ``listen``; it forwards to ``upstream``.

    Addresses are ``host:port``; a ``listen`` port of 0 lets the server pick a free one.
    """

    model_config = ConfigDict(frozen=True)

    name: str = Field(min_length=1)
    # Required: the server binds every interface when it is empty.
    listen: str = Field(min_length=1)
    upstream: str = Field(min_length=1)
    enabled: bool = True


class Proxy(BaseModel):
    """A proxy as the server reports it; ``enabled=False`` means the link is down."""

    model_config = ConfigDict(frozen=True)

    name: str
    listen: str
    upstream: str
    enabled: bool
    toxics: tuple[Toxic, ...] = ()


class _Version(BaseModel):
    version: str


class _Populated(BaseModel):
    proxies: list[Proxy] | None  # JSON null when none was given


_T = TypeVar("_T")
_PROXY = TypeAdapter(Proxy)
_PROXIES = TypeAdapter(dict[str, Proxy])
_TOXIC = TypeAdapter(Toxic)
_TOXICS = TypeAdapter(list[Toxic])
_VERSION = TypeAdapter(_Version)
_POPULATED = TypeAdapter(_Populated)


def _toxic(
    toxic_type: ToxicType,
    attributes: dict[str, int],
    name: str | None,
    stream: Stream,
    toxicity: float,
) -> Toxic:
    return Toxic(
        name=f"{toxic_type}_{stream}" if name is None else name,
        type=toxic_type,
        stream=stream,
        toxicity=toxicity,
        attributes=attributes,
    )


def latency(
    latency_ms: int,
    jitter_ms: int = 0,
    *,
    name: str | None = None,
    stream: Stream = "downstream",
    toxicity: float = 1.0,
) -> Toxic:
    """Delay data by ``latency_ms`` ± ``jitter_ms`` milliseconds."""
    attributes = {"latency": latency_ms, "jitter": jitter_ms}
    return _toxic("latency", attributes, name, stream, toxicity)


def bandwidth(
    rate_kb_per_s: int,
    *,
    name: str | None = None,
    stream: Stream = "downstream",
    toxicity: float = 1.0,
) -> Toxic:
    """Limit throughput to ``rate_kb_per_s`` kilobytes per second."""
    return _toxic("bandwidth", {"rate": rate_kb_per_s}, name, stream, toxicity)


def slow_close(
    delay_ms: int,
    *,
    name: str | None = None,
    stream: Stream = "downstream",
    toxicity: float = 1.0,
) -> Toxic:
    """Delay closing the socket by ``delay_ms`` milliseconds."""
    return _toxic("slow_close", {"delay": delay_ms}, name, stream, toxicity)


def timeout(
    timeout_ms: int,
    *,
    name: str | None = None,
    stream: Stream = "downstream",
    toxicity: float = 1.0,
) -> Toxic:
    """Stop all data, and close the connection after ``timeout_ms`` (0: hold it open)."""
    return _toxic("timeout", {"timeout": timeout_ms}, name, stream, toxicity)


def reset_peer(
    timeout_ms: int,
    *,
    name: str | None = None,
    stream: Stream = "downstream",
    toxicity: float = 1.0,
) -> Toxic:
    """Reset the connection (TCP RST) after ``timeout_ms`` milliseconds (0: at once)."""
    return _toxic("reset_peer", {"timeout": timeout_ms}, name, stream, toxicity)


def slicer(
    average_size: int,
    size_variation: int = 0,
    delay_us: int = 0,
    *,
    name: str | None = None,
    stream: Stream = "downstream",
    toxicity: float = 1.0,
) -> Toxic:
    """Cut data into ``average_size`` ± ``size_variation`` byte packets, ``delay_us`` µs apart."""
    attributes = {"average_size": average_size, "size_variation": size_variation, "delay": delay_us}
    return _toxic("slicer", attributes, name, stream, toxicity)


def limit_data(
    max_bytes: int,
    *,
    name: str | None = None,
    stream: Stream = "downstream",
    toxicity: float = 1.0,
) -> Toxic:
    """Close the connection once ``max_bytes`` bytes have gone through."""
    return _toxic("limit_data", {"bytes": max_bytes}, name, stream, toxicity)


def _proxy_path(proxy: str) -> str:
    return f"/proxies/{quote(proxy, safe='')}"


def _toxic_path(proxy: str, toxic: str) -> str:
    return f"{_proxy_path(proxy)}/toxics/{quote(toxic, safe='')}"


def _same_listen(actual: str, wanted: str) -> bool:
    """Whether the server's listen address is the wanted one (a wanted port 0 = any port)."""
    host, _, port = wanted.rpartition(":")
    return actual == wanted or (port == "0" and actual.rpartition(":")[0] == host)


def _error_text(response: httpx.Response) -> str:
    """Return the server's message from ``{"error": ..., "status": ...}``, else the raw body."""
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict) and isinstance(body.get("error"), str):
        return str(body["error"])
    return response.text.strip() or response.reason_phrase


class ToxiproxyClient:
    """Client of one Toxiproxy server's REST API.

    Every request times out after ``timeout`` seconds; a non-2xx answer, a timeout
    or an unreachable server raises :class:`~dagstorm.core.errors.ToxiproxyError` with
    the URL in ``where`` and the HTTP status (if any) in ``status``. Invalid input
    raises ValueError before anything is sent. Use it as a context manager, or
    call :meth:`close`.
    """

    def __init__(
        self,
        base_url: str,
        *,
        timeout: float = DEFAULT_TIMEOUT,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        """The API's root, e.g. ``http://127.0.0.1:8474``."""
        self.timeout = timeout
        """Seconds each request may take."""
        self._http = httpx.Client(base_url=self.base_url, timeout=timeout, transport=transport)

    def close(self) -> None:
        """Close the connection pool."""
        self._http.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    # -- server ------------------------------------------------------------------

    def version(self) -> str:
        """Return the server's version (``git`` for a build without release flags)."""
        return self._decode(self._send("GET", "/version"), _VERSION).version

    def reset(self) -> None:
        """Enable every proxy and remove every toxic (POST /reset)."""
        self._send("POST", "/reset")

    # -- proxies -----------------------------------------------------------------

    def list_proxies(self) -> list[Proxy]:
        """Every proxy, with its toxics, sorted by name."""
        proxies = self._decode(self._send("GET", "/proxies"), _PROXIES)
        return [proxies[name] for name in sorted(proxies)]

    def get_proxy(self, name: str) -> Proxy:
        """One proxy with its toxics; a missing one raises ToxiproxyError with status 404."""
        return self._decode(self._send("GET", _proxy_path(name)), _PROXY)

    def create_proxy(self, name: str, listen: str, upstream: str, *, enabled: bool = True) -> Proxy:
        """Create a proxy; an existing name raises ToxiproxyError with status 409."""
        spec = ProxySpec(name=name, listen=listen, upstream=upstream, enabled=enabled)
        return self._decode(self._send("POST", "/proxies", spec.model_dump()), _PROXY)

    def ensure_proxy(self, name: str, listen: str, upstream: str, *, enabled: bool = True) -> Proxy:
        """Create the proxy, or update the existing one to match; its toxics are kept.

        Idempotent: when the proxy already matches, nothing is sent but a GET. A
        ``listen`` port of 0 matches whatever port the server picked on that host.
        """
        spec = ProxySpec(name=name, listen=listen, upstream=upstream, enabled=enabled)
        try:
            current = self.get_proxy(name)
        except ToxiproxyError as exc:
            if exc.status != 404:
                raise
            return self.create_proxy(name, listen, upstream, enabled=enabled)
        listen_change = None if _same_listen(current.listen, spec.listen) else spec.listen
        upstream_change = None if current.upstream == spec.upstream else spec.upstream
        enabled_change = None if current.enabled == spec.enabled else spec.enabled
        if listen_change is None and upstream_change is None and enabled_change is None:
            return current
        return self.update_proxy(
            name, listen=listen_change, upstream=upstream_change, enabled=enabled_change
        )

    def update_proxy(
        self,
        name: str,
        *,
        listen: str | None = None,
        upstream: str | None = None,
        enabled: bool | None = None,
    ) -> Proxy:
        """Change the given fields of a proxy (PATCH); the others and its toxics are kept."""
        changes = {"listen": listen, "upstream": upstream, "enabled": enabled}
        body = {key: value for key, value in changes.items() if value is not None}
        if not body:
            raise ValueError(f"update_proxy({name!r}) needs listen, upstream or enabled")
        if "" in body.values():
            raise ValueError(f"update_proxy({name!r}): listen and upstream cannot be empty")
        return self._decode(self._send("PATCH", _proxy_path(name), body), _PROXY)

    def enable_proxy(self, name: str) -> Proxy:
        """Bring a proxy's link up: it accepts connections again."""
        return self.update_proxy(name, enabled=True)

    def disable_proxy(self, name: str) -> Proxy:
        """Take a proxy's link down: it closes its connections and refuses new ones."""
        return self.update_proxy(name, enabled=False)

    def delete_proxy(self, name: str, *, missing_ok: bool = False) -> None:
        """Delete a proxy; a missing one is an error unless ``missing_ok``."""
        self._send("DELETE", _proxy_path(name), missing_ok=missing_ok)

    def populate(self, proxies: Sequence[ProxySpec]) -> list[Proxy]:
        """Create or replace several proxies at once (POST /populate); others are kept.

        The server leaves a proxy that already matches alone and replaces one that
        differs (dropping its toxics); a ``listen`` port of 0 always differs. On an
        error, the proxies before the failing one have been applied.
        """
        body = [proxy.model_dump() for proxy in proxies]
        populated = self._decode(self._send("POST", "/populate", body), _POPULATED)
        return populated.proxies or []

    # -- toxics ------------------------------------------------------------------

    def list_toxics(self, proxy: str) -> list[Toxic]:
        """List a proxy's toxics, in the server's order."""
        return self._decode(self._send("GET", f"{_proxy_path(proxy)}/toxics"), _TOXICS)

    def get_toxic(self, proxy: str, name: str) -> Toxic:
        """One toxic of a proxy; a missing one raises ToxiproxyError with status 404."""
        return self._decode(self._send("GET", _toxic_path(proxy, name)), _TOXIC)

    def add_toxic(self, proxy: str, toxic: Toxic) -> Toxic:
        """Add a toxic to a proxy; an existing name raises ToxiproxyError with status 409."""
        body = toxic.model_dump()
        return self._decode(self._send("POST", f"{_proxy_path(proxy)}/toxics", body), _TOXIC)

    def update_toxic(
        self,
        proxy: str,
        name: str,
        *,
        attributes: Mapping[str, int] | None = None,
        toxicity: float | None = None,
    ) -> Toxic:
        """Change some attributes and/or the toxicity of a toxic in place (PATCH).

        The result is checked against the toxic's type before it is sent, so a
        misspelt attribute fails here instead of being ignored by the server. Type
        and stream cannot change: remove the toxic and add another.
        """
        if not attributes and toxicity is None:
            raise ValueError(f"update_toxic({name!r}) needs attributes or toxicity")
        current = self.get_toxic(proxy, name)
        body: dict[str, object] = {}
        if attributes:
            body["attributes"] = dict(attributes)
        if toxicity is not None:
            body["toxicity"] = toxicity
        merged = current.attributes | dict(attributes or {})
        Toxic.model_validate({**current.model_dump(), **body, "attributes": merged})
        return self._decode(self._send("PATCH", _toxic_path(proxy, name), body), _TOXIC)

    def remove_toxic(self, proxy: str, name: str, *, missing_ok: bool = False) -> None:
        """Remove a toxic; a missing toxic or proxy is an error unless ``missing_ok``."""
        self._send("DELETE", _toxic_path(proxy, name), missing_ok=missing_ok)

    # -- HTTP --------------------------------------------------------------------

    def _send(
        self, method: str, path: str, body: object = None, *, missing_ok: bool = False
    ) -> httpx.Response:
        """One request; anything but a 2xx (or a 404 when ``missing_ok``) raises."""
        url = f"{self.base_url}{path}"
        try:
            response = self._http.request(method, path, json=body)
        except httpx.TimeoutException as exc:
            raise ToxiproxyError(
                f"no answer from Toxiproxy to {method} within {self.timeout:g} s", where=url
            ) from exc
        except httpx.TransportError as exc:
            raise ToxiproxyError(
                f"cannot reach Toxiproxy for {method}: {exc or type(exc).__name__}", where=url
            ) from exc
        if response.is_success or (missing_ok and response.status_code == 404):
            return response
        status = response.status_code
        raise ToxiproxyError(
            f"Toxiproxy answered {method} with HTTP {status}: {_error_text(response)}",
            status=status,
            where=url,
        )

    def _decode(self, response: httpx.Response, adapter: TypeAdapter[_T]) -> _T:
        """Parse an answer; one that does not fit the API raises ToxiproxyError."""
        try:
            return adapter.validate_json(response.content, context=_FROM_SERVER)
        except ValidationError as exc:
            raise ToxiproxyError(
                f"unexpected answer from Toxiproxy to {response.request.method}: {exc}",
                status=response.status_code,
                where=str(response.request.url),
            ) from exc
