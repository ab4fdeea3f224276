"""Network faults on a declared link, through Toxiproxy.

Toxics are named ``dagstorm-<fault id>-<stream>``, so a revert (or a recover
after a crash) finds exactly this fault's toxics. ``down`` disables the proxy;
``flap`` toggles it on a period from a background thread until reverted.
"""

from __future__ import annotations

import threading
from typing import Any

from dagstorm.clients import toxiproxy as tp
from dagstorm.core.errors import FaultError, ToxiproxyError
from dagstorm.faults.base import Fault
from dagstorm.faults.celery_stack import is_celery_link, not_celery
from dagstorm.faults.specs import NetworkFault


def toxic_name(fault_id: str, stream: str) -> str:
    """The name of a fault's toxic on one stream."""
    return f"dagstorm-{fault_id}-{stream}"


class NetworkLinkFault(Fault):
    """A toxic, or the link down, or the link flapping."""

    spec: NetworkFault

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._stop = threading.Event()
        self._flapper: threading.Thread | None = None

    def _streams(self) -> list[tp.Stream]:
        return ["upstream", "downstream"] if self.spec.stream == "both" else [self.spec.stream]

    def _toxic(self, stream: tp.Stream) -> tp.Toxic:
        s = self.spec
        common: dict[str, Any] = {
            "name": toxic_name(self.fault_id, stream),
            "stream": stream,
            "toxicity": s.toxicity,
        }
        match s.effect:
            case "latency":
                return tp.latency(s.latency_ms, s.jitter_ms, **common)
            case "bandwidth":
                return tp.bandwidth(s.rate_kb_per_s, **common)
            case "stall":
                return tp.timeout(s.timeout_ms, **common)
            case "reset":
                return tp.reset_peer(s.timeout_ms, **common)
            case "slicer":
                return tp.slicer(s.average_size, s.size_variation, s.delay_us, **common)
            case "limit_data":
                return tp.limit_data(s.max_bytes, **common)
            case "slow_close":
                return tp.slow_close(s.delay_ms, **common)
        raise FaultError(f"effect {s.effect} is not a toxic")  # down/flap never get here

    def check_targets(self) -> None:
        """The link must be one the stack declares, behind a loopback Toxiproxy."""
        if self.spec.link not in self.ctx.stack.links and is_celery_link(self.spec.link):
            refusal = not_celery(self.ctx.stack, f"link `{self.spec.link}`")
            if refusal is not None:
                raise refusal
        if self.spec.link not in self.ctx.stack.links:
            raise FaultError(
                f"link `{self.spec.link}` is not declared by the stack",
                where=f"stack kind {self.ctx.stack.kind}",
                fix=f"use one of: {', '.join(self.ctx.stack.links) or '(none declared)'}",
            )
        with self.ctx.toxiproxy() as client:
            client.get_proxy(self.spec.link)

    def inject(self) -> dict[str, Any]:
        """Add the toxic(s), disable the proxy, or start flapping."""
        link = self.spec.link
        if self.spec.effect == "down":
            with self.ctx.toxiproxy() as client:
                client.disable_proxy(link)
            return {"link": link, "enabled": False}
        if self.spec.effect == "flap":
            with self.ctx.toxiproxy() as client:
                client.disable_proxy(link)
            self._flapper = threading.Thread(target=self._flap, name=f"flap-{link}", daemon=True)
            self._flapper.start()
            return {"link": link, "period_s": self.spec.period_s}
        names = []
        with self.ctx.toxiproxy() as client:
            for stream in self._streams():
                client.add_toxic(link, self._toxic(stream))
                names.append(toxic_name(self.fault_id, stream))
        return {"link": link, "toxics": names}

    def _flap(self) -> None:
        enabled = False
        while not self._stop.wait(self.spec.period_s):
            enabled = not enabled
            try:
                with self.ctx.toxiproxy() as client:
                    client.update_proxy(self.spec.link, enabled=enabled)
            except ToxiproxyError:
                continue  # the next period tries again; revert re-enables for sure

    def verify(self) -> str:
        """The toxics exist on the proxy, or the proxy is disabled."""
        with self.ctx.toxiproxy() as client:
            proxy = client.get_proxy(self.spec.link)
        if self.spec.effect == "down":
            if proxy.enabled:
                raise FaultError(f"proxy {proxy.name} is still enabled")
            return f"proxy {proxy.name} disabled"
        if self.spec.effect == "flap":
            return f"proxy {proxy.name} flapping (now {'up' if proxy.enabled else 'down'})"
        present = {t.name for t in proxy.toxics}
        wanted = {toxic_name(self.fault_id, s) for s in self._streams()}
        if not wanted <= present:
            raise FaultError(f"toxics {sorted(wanted - present)} missing on {proxy.name}")
        return f"{len(wanted)} toxic(s) on {proxy.name}"

    def stop(self) -> None:
        """Stop flapping."""
        self._stop.set()
        if self._flapper is not None:
            self._flapper.join(timeout=5)

    def revert(self) -> None:
        """Remove this fault's toxics; re-enable the proxy after down/flap."""
        self.stop()
        with self.ctx.toxiproxy() as client:
            if self.spec.effect in ("down", "flap"):
                client.enable_proxy(self.spec.link)
                return
            for stream in ("upstream", "downstream"):
                client.remove_toxic(
                    self.spec.link, toxic_name(self.fault_id, stream), missing_ok=True
                )
