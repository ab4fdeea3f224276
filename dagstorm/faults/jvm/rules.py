"""Byteman rule text for each ``jvm`` action: a pure function of the spec and the fault id.

Reverting (and `dagstorm recover` after a SIGKILL) deletes rules by name, so the
name carries the fault id: ``dagstorm <fault id> <action>``. Every value put in
the text is checked by the spec's patterns first (Java names, a message without
quotes or backslashes), so a spec cannot write a rule of its own.
"""

from __future__ import annotations

from dataclasses import dataclass

from dagstorm.faults.specs import JvmFault

#: memory_stress fills the heap in chunks of this many bytes, held until the JVM dies.
CHUNK_BYTES = 32 * 1024 * 1024
#: Chunks at most (16 GiB): the heap of any executor here is smaller.
CHUNKS = 512


@dataclass(frozen=True)
class Rule:
    """One rule: its name (what revert deletes) and its text (what inject loads)."""

    name: str
    text: str


def rule_name(fault_id: str, spec: JvmFault) -> str:
    """``dagstorm <fault id> <action>``."""
    return f"dagstorm {fault_id} {spec.action}"


def split_method(qualified: str) -> tuple[str, str]:
    """``org.a.B.run`` → (``org.a.B``, ``run``)."""
    cls, _, method = qualified.rpartition(".")
    return cls, method


def _action_body(fault_id: str, spec: JvmFault) -> str:
    link_map = f'"dagstorm-{fault_id}"'
    match spec.action:
        case "memory_stress":
            # Real filling: chunks that stay reachable (Byteman's link map) while
            # the heap has room for more than one (the collector runs as it fills),
            # then the error a full heap gives, thrown in the task's thread as
            # itself (an allocation failing inside a rule would reach Spark wrapped
            # in Byteman's ExecuteException): Spark's handler exits with code 52.
            room = "rt.maxMemory() - rt.totalMemory() + rt.freeMemory()"
            chunks = ";\n   ".join(
                f'link({link_map}, "{i}", {room} > rt.maxMemory() / 4 '
                f"? new byte[{CHUNK_BYTES}] : null)"
                for i in range(CHUNKS)
            )
            return f'{chunks};\n   throw new java.lang.OutOfMemoryError("Java heap space")'
        case "gc_pressure":
            return ";\n   ".join(["System.gc()"] * spec.gc_count)
        case "latency":
            return f"delay({spec.latency_ms})"
        case "exception":
            return f'throw new {spec.exception}("{spec.message} ({fault_id})")'
    raise ValueError(spec.action)  # pragma: no cover - the spec's Literal


def build_rule(fault_id: str, spec: JvmFault) -> Rule:
    """The rule the fault loads into each target JVM."""
    cls, method = split_method(spec.rule_method())
    name = rule_name(fault_id, spec)
    trace = f'traceln("dagstorm {fault_id}: {spec.action} in {cls}.{method}")'
    bind = "BIND rt:java.lang.Runtime = java.lang.Runtime.getRuntime()\n"
    text = (
        f"RULE {name}\n"
        f"CLASS {cls}\n"
        f"METHOD {method}\n"
        "AT ENTRY\n"
        f"{bind if spec.action == 'memory_stress' else ''}"
        "IF TRUE\n"
        f"DO {trace};\n   {_action_body(fault_id, spec)}\n"
        "ENDRULE\n"
    )
    return Rule(name, text)
