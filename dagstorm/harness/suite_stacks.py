"""The stacks a suite runs on: its own, and the ones its entries name (``stack:``).

Before an entry that names a stack config the suite brings that stack up (what
`dagstorm stack up` does: on the embedded stack a change of executor restarts
Airflow with or without Celery); before the next entry without one, and at the
end whatever happened, it brings its own stack back. Bringing a stack up is a
callable (:data:`StackBringer`), so tests pass a fake one.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from dagstorm.core.durations import duration_text
from dagstorm.core.errors import DagstormError, UsageError
from dagstorm.core.progress import Progress
from dagstorm.scenarios.suite import SWITCH_ESTIMATE_S, EntryStack, LoadedSuite, stack_executor
from dagstorm.stack.config import DEFAULT_SOURCE, StackConfig, load_stack_config
from dagstorm.stack.embedded.context import StackContext
from dagstorm.stack.embedded.launcher import EmbeddedStack

__all__ = ["StackBringer", "StackSwitcher", "SuiteStacks", "bring_up"]

#: Brings the stack a config describes up and waits until it is healthy (raises if not).
StackBringer = Callable[[StackConfig], None]


def bring_up(progress: Progress | None = None) -> StackBringer:
    """The real bringer: `dagstorm stack up`'s code for an embedded stack.

    A compose or external stack is not dagstorm's to start: it is used as it is.
    """

    def bring(config: StackConfig) -> None:
        if config.kind != "embedded":
            return
        EmbeddedStack(StackContext(config=config, progress=progress or Progress(quiet=True))).up()

    return bring


@dataclass(frozen=True)
class SuiteStacks:
    """The suite's own stack, how to read an entry's, and how to bring one up."""

    #: The stack the suite begins on (and ends on).
    home: StackConfig
    #: Brings a stack up (switching the running one).
    bring: StackBringer
    #: Reads an entry's stack file (the caller's state directory applied).
    read: Callable[[Path], StackConfig] = load_stack_config

    def config_of(self, entry: EntryStack | None) -> StackConfig:
        """The config an entry runs on (its own, or the suite's)."""
        return self.home if entry is None else self.read(entry.path)

    def check(self, suite: LoadedSuite) -> None:
        """Refuse, before anything runs, an entry's stack that cannot replace the suite's.

        Two embedded stacks with different state directories would run side by
        side on the same ports, not one in place of the other.
        """
        home_dir = self.home.resolved_state_dir()
        for index in range(len(suite)):
            entry = suite.stack_of(index)
            if entry is None:
                continue
            config = self.config_of(entry)
            if (
                config.kind == "embedded"
                and self.home.kind == "embedded"
                and config.resolved_state_dir() != home_dir
            ):
                raise UsageError(
                    f"entry {index + 1}'s stack {entry.written} keeps its state in "
                    f"{config.resolved_state_dir()}, the suite's stack in {home_dir}: "
                    "switching would start a second stack, not replace the first",
                    where=str(suite.path),
                    fix="drop `state_dir` from the entry's stack file (or use the same one)",
                )

    def label(self, entry: EntryStack | None) -> tuple[str, str]:
        """(stack, executor) of an entry, for the summary: its file, or the suite's."""
        if entry is None:
            source = self.home.source
            return ("built-in defaults" if source == DEFAULT_SOURCE else source), (
                stack_executor(self.home)
            )
        return entry.written, stack_executor(entry.config)


class StackSwitcher:
    """Which stack is up during a suite, and the switches between its stacks (one suite run)."""

    def __init__(
        self,
        suite: LoadedSuite,
        stacks: SuiteStacks | None,
        echo: Callable[[str], None],
        monotonic: Callable[[], float],
    ) -> None:
        self._suite = suite
        self._stacks = stacks
        self._echo = echo
        self._monotonic = monotonic
        #: The entry stack that is (or may be, after a failed switch) up; None: the suite's.
        self.active: EntryStack | None = None

    def label(self, entry: EntryStack | None) -> tuple[str | None, str | None]:
        """(stack, executor) for the summary; (None, None) without ``stacks``."""
        return (None, None) if self._stacks is None else self._stacks.label(entry)

    def switch_to(self, entry: EntryStack | None, tag: str) -> StackConfig | None:
        """Bring ``entry``'s stack up (or the suite's back) unless it is the one up.

        Returns the config the entry runs on (None: the suite's, as the caller chose).
        """
        if self._stacks is None:
            return None
        config = self._stacks.config_of(entry) if entry is not None else None
        if _key(entry) != _key(self.active):
            self._bring(entry, config or self._stacks.home, tag)
        return config

    def back_home(self) -> str | None:
        """Bring the suite's own stack back if another is up; the error, if that failed."""
        if self._stacks is None or self.active is None:
            return None
        try:
            self._bring(None, self._stacks.home, f"[{self._suite.name}] end")
        except DagstormError as exc:
            error = f"bringing the suite's stack {self._stacks.home.source} back failed: " + (
                exc.render()
            )
            self._echo(f"[{self._suite.name}] stack: {error}")
            return error
        return None

    def _bring(self, entry: EntryStack | None, config: StackConfig, tag: str) -> None:
        assert self._stacks is not None
        stack, executor = self._stacks.label(entry)
        whose = "back to the suite's stack" if entry is None else "to stack"
        self._echo(
            f"{tag}: switching {whose} {stack} ({executor}); "
            f"~{duration_text(SWITCH_ESTIMATE_S)} planned"
        )
        started = self._monotonic()
        # Marked first: a switch that fails half-way still has the suite's stack brought back.
        self.active = entry if entry is not None else self.active
        self._stacks.bring(config)
        self.active = entry
        self._echo(
            f"{tag}: stack {stack} ({executor}) up after "
            f"{duration_text(self._monotonic() - started)}"
        )


def _key(entry: EntryStack | None) -> Path | None:
    return None if entry is None else entry.path
