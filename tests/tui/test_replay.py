from __future__ import annotations

from dagstorm.tui.replay import SPEEDS, ReplayClock


def test_tick_advances_only_while_playing() -> None:
    clock = ReplayClock(speed=2.0, end_t=100.0)
    assert clock.tick(1.0).t == 2.0
    clock.toggle()
    assert clock.tick(5.0).t == 2.0


def test_stops_at_the_end_and_play_restarts() -> None:
    clock = ReplayClock(speed=60.0, end_t=100.0)
    position = clock.tick(10.0)
    assert position.t == 100.0 and not position.playing
    assert clock.toggle()
    assert clock.position().t == 0.0 and clock.position().epoch == 1


def test_seek_backwards_bumps_the_epoch() -> None:
    clock = ReplayClock(playing=False, end_t=100.0)
    assert clock.seek(50.0).epoch == 0
    assert clock.seek_by(-10.0).epoch == 1
    assert clock.seek(1e9).t == 100.0
    assert clock.seek(-5).t == 0.0


def test_speeds_step_and_clamp() -> None:
    clock = ReplayClock(speed=1.0)
    assert clock.faster() == 2.0
    for _ in range(20):
        clock.faster()
    assert clock.position().speed == SPEEDS[-1]
    for _ in range(20):
        clock.slower()
    assert clock.position().speed == SPEEDS[0]
