"""The two "try again a few times" loops that run on core.polling: health and signals."""

from __future__ import annotations

import pytest

from dagstorm.stack.embedded import status
from dagstorm.stack.embedded.components.base import Health
from dagstorm.workloads.kafka import signal_sender
from dagstorm.workloads.kafka.signal_sender import SignalSender


class _Flaky:
    """A component whose health probes answer from a script; ``running`` says if it is up."""

    def __init__(self, answers: list[bool], *, up: bool = True) -> None:
        self.answers = answers
        self.probes = 0
        self.up = up

    def health(self) -> Health:
        ok = self.answers[min(self.probes, len(self.answers) - 1)]
        self.probes += 1
        return Health(ok, f"probe {self.probes}")

    def running(self) -> int | None:
        return 1234 if self.up else None


@pytest.fixture(autouse=True)
def _no_real_waits(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(status, "_HEALTH_RETRY_S", 0.001)
    monkeypatch.setattr(signal_sender, "_RETRY_INTERVAL_S", 0.001)


def test_a_missed_probe_is_asked_again_until_one_passes() -> None:
    comp = _Flaky([False, True])
    health = status._settled_health(comp)  # type: ignore[arg-type]
    assert health == Health(True, "probe 2") and comp.probes == 2


def test_unhealthy_only_after_every_probe_failed() -> None:
    comp = _Flaky([False])
    health = status._settled_health(comp)  # type: ignore[arg-type]
    assert health == Health(False, f"probe {status._HEALTH_PROBES}")
    assert comp.probes == status._HEALTH_PROBES


def test_a_process_that_is_gone_is_not_asked_again() -> None:
    comp = _Flaky([False], up=False)
    assert status._settled_health(comp) == Health(False, "probe 1")  # type: ignore[arg-type]


def _sender(outcomes: list[bool]) -> tuple[SignalSender, list[str]]:
    """A sender whose every ``send`` acknowledges its one pending signal per ``outcomes``."""
    sender = SignalSender.__new__(SignalSender)
    sender._unsent = [object()]  # type: ignore[list-item]
    calls: list[str] = []

    def send(why: str) -> int:
        calls.append(why)
        if outcomes[len(calls) - 1]:
            sender._unsent = []
            return 100
        return 0

    sender.send = send  # type: ignore[method-assign]
    return sender, calls


def test_retry_sends_again_until_the_control_topic_acknowledges() -> None:
    sender, calls = _sender([False, False, True])
    assert sender.retry(budget=30.0) == 100
    assert calls == ["retry"] * 3


def test_retry_stops_at_its_budget_with_the_signal_still_pending() -> None:
    sender, calls = _sender([False] * 10_000)
    assert sender.retry(budget=0.05) == 0
    assert sender._unsent and 1 <= len(calls) < 10_000


def test_retry_with_nothing_pending_sends_nothing() -> None:
    sender, calls = _sender([True])
    sender._unsent = []
    assert sender.retry(budget=30.0) == 0 and calls == []
