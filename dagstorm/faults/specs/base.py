"""The base every fault spec model shares."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict

from dagstorm.stack.parts import Part

StreamChoice = Literal["upstream", "downstream", "both"]


class FaultSpecBase(BaseModel):
    """What every fault spec is: strict (unknown keys are errors), frozen, with a ``kind``.

    A plugin's fault spec subclasses it, declares ``kind: Literal["my_kind"] =
    "my_kind"`` and its own fields, and says in :meth:`describe` what it breaks.
    """

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    #: The fault's kind (each subclass narrows it to one ``Literal``).
    kind: str

    def describe(self) -> str:
        """A short human description, e.g. ``network latency 300 ms on kafka``."""
        raise NotImplementedError

    def needs(self) -> frozenset[Part]:
        """The stack parts this fault acts on (a run refuses it where they are not declared)."""
        return frozenset()

    def deprecation(self) -> tuple[str, str, str] | None:
        """(key, what, fix) if this spec is written in a deprecated way (a validation warning)."""
        return None
