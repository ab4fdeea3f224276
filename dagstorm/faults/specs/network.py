"""Network faults (Toxiproxy toxics on a link) and Kafka broker faults."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from dagstorm.core.problems import raise_all
from dagstorm.faults.specs.base import FaultSpecBase, StreamChoice
from dagstorm.stack.parts import Part
from dagstorm.stack.topology import LinkName


class NetworkFault(FaultSpecBase):
    """A Toxiproxy toxic (or the proxy down / flapping) on one declared link."""

    kind: Literal["network"] = "network"
    link: LinkName
    effect: Literal[
        "latency",
        "bandwidth",
        "stall",
        "reset",
        "slicer",
        "limit_data",
        "slow_close",
        "down",
        "flap",
    ]
    stream: StreamChoice = "both"
    toxicity: float = Field(1.0, ge=0.0, le=1.0)
    latency_ms: int = Field(0, ge=0, le=600_000)
    jitter_ms: int = Field(0, ge=0, le=600_000)
    rate_kb_per_s: int = Field(0, ge=0)
    timeout_ms: int = Field(0, ge=0, description="stall: 0 holds data until reverted")
    delay_ms: int = Field(0, ge=0, description="slow_close delay")
    average_size: int = Field(0, ge=0)
    size_variation: int = Field(0, ge=0)
    delay_us: int = Field(0, ge=0)
    max_bytes: int = Field(0, ge=0)
    period_s: float = Field(0.0, ge=0.0, description="flap: seconds down, then as many up")

    @model_validator(mode="after")
    def _needs(self) -> NetworkFault:
        required = {
            "latency": ("latency_ms",),
            "bandwidth": ("rate_kb_per_s",),
            "slicer": ("average_size",),
            "limit_data": ("max_bytes",),
            "flap": ("period_s",),
        }.get(self.effect, ())
        findings = [
            ((name,), f"effect {self.effect} needs {name} > 0")
            for name in required
            if not getattr(self, name)
        ]
        if self.effect == "slicer" and 0 < self.average_size <= self.size_variation:
            findings.append((("size_variation",), "slicer needs size_variation < average_size"))
        raise_all("NetworkFault", findings)
        return self

    def describe(self) -> str:
        """Short description."""
        detail = {
            "latency": f" {self.latency_ms} ms" + (f" ±{self.jitter_ms}" if self.jitter_ms else ""),
            "bandwidth": f" {self.rate_kb_per_s} KB/s",
            "flap": f" every {self.period_s:g} s",
        }.get(self.effect, "")
        return f"network {self.effect}{detail} on {self.link} ({self.stream})"

    def needs(self) -> frozenset[Part]:
        """Toxiproxy (the link's proxy is checked against the stack's declared links)."""
        return frozenset({"toxiproxy"})


class BrokerFault(FaultSpecBase):
    """The Kafka broker process: SIGKILL (restarted on revert), SIGSTOP, or a restart."""

    kind: Literal["broker"] = "broker"
    action: Literal["kill", "pause", "restart"]

    def describe(self) -> str:
        """Short description."""
        return f"kafka broker {self.action}"

    def needs(self) -> frozenset[Part]:
        """Kafka, and its broker as a process dagstorm owns."""
        return frozenset({"kafka", "processes"})
