"""What the Toxiproxy REST API (server v2.12) takes and returns: proxies and toxics.

What we send is validated first (toxicity in [0, 1], attributes known to the
toxic's type, non-negative integers), because the server accepts a toxicity of
1.5 or a latency of -5 without a word. What the server reports is taken as it is
(validated with the :data:`FROM_SERVER` context).

The helpers (:func:`latency`, :func:`bandwidth`, ...) build one toxic each and,
like the server, name it ``<type>_<stream>`` unless given a name.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal, Self

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictInt,
    ValidationInfo,
    model_validator,
)

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

#: Validation context marking data read from the server: accepted without our checks,
#: since another client may have set values we would refuse to send.
FROM_SERVER = {"from_server": True}


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
        if info.context != FROM_SERVER:
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
