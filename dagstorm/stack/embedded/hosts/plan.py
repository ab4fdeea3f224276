"""Names and addresses of a Celery worker host (a network namespace of this stack).

Pure: nothing here touches the machine. Every name carries a hash of the state
directory, so two stacks on one machine never share a namespace, a link or a
subnet slot, and cleanup can tell ours from anything else.

A host ``w<N>`` of a stack gets:

* the namespace ``dagstorm-<tag6>-w<N>``;
* a veth pair: ``ds<tag6>w<N>`` in the root namespace (its *host side*, whose
  alias is the stack's owner string) and ``eth0`` inside the namespace;
* a /30 from the pool (default ``10.231.0.0/16``): ``.1`` on the host side,
  ``.2`` inside. The pool is cut in slots of 16 /30s, one slot per stack (picked
  by the hash), one /30 per worker index (1 to 16).
"""

from __future__ import annotations

import hashlib
import ipaddress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

#: The default address pool of worker hosts (private, rarely used by anything else).
DEFAULT_POOL = ipaddress.IPv4Network("10.231.0.0/16")
#: Worker indexes per stack (``celery.workers`` is at most 16).
MAX_HOSTS = 16
#: The interface name inside every namespace.
NS_INTERFACE = "eth0"
#: Names of every namespace dagstorm makes start with this.
NAMESPACE_PREFIX = "dagstorm-"
_SUBNET_SIZE = 4  # a /30: network, host side, namespace side, broadcast


def stack_tag(state_dir: Path) -> str:
    """The stack's identity: the SHA-256 of its resolved state directory, in hex."""
    return hashlib.sha256(str(state_dir.resolve()).encode()).hexdigest()


def owner_string(state_dir: Path) -> str:
    """The alias set on every host-side link of this stack (how cleanup knows ours)."""
    return f"dagstorm-stack:{stack_tag(state_dir)}"


def namespace_prefix(state_dir: Path) -> str:
    """Every namespace of this stack starts with this (``dagstorm-<tag6>-``)."""
    return f"{NAMESPACE_PREFIX}{stack_tag(state_dir)[:6]}-"


@dataclass(frozen=True)
class HostPlan:
    """Everything about one worker host: names, addresses and whose it is."""

    #: The worker index (from 1), as in ``airflow-celery-worker-<index>``.
    index: int
    #: The network namespace (``ip netns`` name).
    namespace: str
    #: The veth end in the root namespace.
    host_if: str
    #: The host side's address with its prefix (``10.231.x.y/30``).
    host_cidr: str
    #: The namespace side's address with its prefix.
    ns_cidr: str
    #: The alias on ``host_if``: ``dagstorm-stack:<sha256 of the state dir>``.
    owner: str
    #: The stack's resolved state directory (the registry and the process marker).
    state_dir: str
    #: The veth end inside the namespace.
    ns_if: str = NS_INTERFACE

    @property
    def host_ip(self) -> str:
        """The host side's address: what the worker connects to (Toxiproxy listens here)."""
        return self.host_cidr.split("/")[0]

    @property
    def ns_ip(self) -> str:
        """The worker's own address."""
        return self.ns_cidr.split("/")[0]

    @property
    def subnet(self) -> ipaddress.IPv4Network:
        """The /30 the two ends share."""
        return ipaddress.IPv4Interface(self.host_cidr).network

    def to_dict(self) -> dict[str, Any]:
        """The registry's form."""
        return {
            "index": self.index,
            "namespace": self.namespace,
            "host_if": self.host_if,
            "host_cidr": self.host_cidr,
            "ns_cidr": self.ns_cidr,
            "owner": self.owner,
            "state_dir": self.state_dir,
            "ns_if": self.ns_if,
        }

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> HostPlan:
        """Read a registry entry (raises ``KeyError``/``TypeError``/``ValueError`` if malformed)."""
        plan = cls(
            index=int(raw["index"]),
            namespace=str(raw["namespace"]),
            host_if=str(raw["host_if"]),
            host_cidr=str(raw["host_cidr"]),
            ns_cidr=str(raw["ns_cidr"]),
            owner=str(raw["owner"]),
            state_dir=str(raw["state_dir"]),
            ns_if=str(raw.get("ns_if", NS_INTERFACE)),
        )
        ipaddress.IPv4Interface(plan.host_cidr)
        ipaddress.IPv4Interface(plan.ns_cidr)
        return plan


def _check_pool(pool: ipaddress.IPv4Network) -> None:
    if not pool.is_private:
        raise ValueError(f"worker-host pool {pool} is not a private range")
    if pool.num_addresses < MAX_HOSTS * _SUBNET_SIZE:
        raise ValueError(f"worker-host pool {pool} is smaller than one stack's {MAX_HOSTS} /30s")


def plan_host(
    state_dir: Path, index: int, *, pool: ipaddress.IPv4Network = DEFAULT_POOL
) -> HostPlan:
    """The plan of worker host ``index`` (1 to 16) of the stack in ``state_dir``."""
    if not 1 <= index <= MAX_HOSTS:
        raise ValueError(f"worker host index {index} is outside 1..{MAX_HOSTS}")
    _check_pool(pool)
    tag = stack_tag(state_dir)
    slots = pool.num_addresses // (MAX_HOSTS * _SUBNET_SIZE)
    slot = int(tag, 16) % slots
    base = pool.network_address + (slot * MAX_HOSTS + index - 1) * _SUBNET_SIZE
    return HostPlan(
        index=index,
        namespace=f"{namespace_prefix(state_dir)}w{index}",
        host_if=f"ds{tag[:6]}w{index}",
        host_cidr=f"{base + 1}/30",
        ns_cidr=f"{base + 2}/30",
        owner=owner_string(state_dir),
        state_dir=str(state_dir.resolve()),
    )


def index_of_link(state_dir: Path, link_name: str) -> int | None:
    """The worker index a host-side link name of this stack stands for, else ``None``."""
    prefix = f"ds{stack_tag(state_dir)[:6]}w"
    rest = link_name.removeprefix(prefix)
    if rest == link_name or not rest.isdigit():
        return None
    index = int(rest)
    return index if 1 <= index <= MAX_HOSTS else None
