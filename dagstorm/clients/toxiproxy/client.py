"""The client of one Toxiproxy server's REST API (server v2.12): proxies and toxics.

Every request has a timeout, every failure (an HTTP error, a timeout, no server)
raises :class:`~dagstorm.core.errors.ToxiproxyError` naming the URL, and updates
use PATCH, the verb the server asks for (it logs POST updates as deprecated).
What is sent is validated first (:mod:`.models`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from types import TracebackType
from typing import Self, TypeVar
from urllib.parse import quote

import httpx
from pydantic import BaseModel, TypeAdapter, ValidationError

from dagstorm.clients.toxiproxy.models import FROM_SERVER, Proxy, ProxySpec, Toxic
from dagstorm.core.errors import ToxiproxyError

#: Seconds every request may take, connecting included.
DEFAULT_TIMEOUT = 5.0


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
            return adapter.validate_json(response.content, context=FROM_SERVER)
        except ValidationError as exc:
            raise ToxiproxyError(
                f"unexpected answer from Toxiproxy to {response.request.method}: {exc}",
                status=response.status_code,
                where=str(response.request.url),
            ) from exc
