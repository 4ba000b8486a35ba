"""pylapse.notify.cooldown: one message per rule and subject per cooldown, the last held kept."""

from __future__ import annotations

from pylapse.notify.cooldown import Cooldown


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_flapping_subject_sends_once_then_its_last_event_when_the_cooldown_ends() -> None:
    clock = Clock()
    cd: Cooldown[str] = Cooldown(clock)
    assert cd.admit("r", "porch", 60, "offline").send
    second = cd.admit("r", "porch", 60, "back")
    assert not second.send and second.flush_at == 1060.0
    clock.now += 10
    third = cd.admit("r", "porch", 60, "offline")
    assert not third.send and third.flush_at is None  # the flush is already planned
    clock.now = 1060.0
    held = cd.flush("r", "porch")
    assert held is not None and held.event == "offline" and held.count == 2
    assert cd.flush("r", "porch") is None
    # the flush sent a message: the next window starts at the flush
    fourth = cd.admit("r", "porch", 60, "back")
    assert not fourth.send and fourth.flush_at == 1120.0
    clock.now = 1200.0
    assert cd.admit("r", "porch", 60, "offline").send is False  # held until its flush runs
    held = cd.flush("r", "porch")
    assert held is not None and (held.event, held.count) == ("offline", 2)
    clock.now = 1260.0
    assert cd.admit("r", "porch", 60, "back").send


def test_subjects_and_rules_cool_down_apart() -> None:
    clock = Clock()
    cd: Cooldown[str] = Cooldown(clock)
    assert cd.admit("r", "porch", 60, "offline").send
    assert cd.admit("r", "garden", 60, "offline").send
    assert cd.admit("other", "porch", 60, "offline").send
    assert not cd.admit("r", "porch", 60, "offline").send


def test_zero_cooldown_sends_everything_and_forget_starts_afresh() -> None:
    clock = Clock()
    cd: Cooldown[str] = Cooldown(clock)
    assert all(cd.admit("r", "s", 0, "e").send for _ in range(5))
    assert cd.admit("q", "s", 60, "e").send
    assert not cd.admit("q", "s", 60, "e").send
    cd.forget("q")
    assert cd.flush("q", "s") is None
    assert cd.admit("q", "s", 60, "e").send
