"""The render schedules' last firings in the index database, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pylapse.tasks.render_firings import LEGACY_NAME, FiringLog


@pytest.fixture
def firings(index_location: str):
    made = FiringLog(index_location)
    yield made
    made.close()


def test_a_firing_is_claimed_once_from_the_value_read(firings: FiringLog, index_location: str):
    assert firings.last() == {}
    assert firings.claim("daily", None, 1000.0)  # first seen
    assert not firings.claim("daily", None, 1001.0)  # someone saw it first
    other = FiringLog(index_location)  # a second host on the same index
    try:
        assert other.last() == {"daily": 1000.0}
        assert other.claim("daily", 1000.0, 2000.0)
        assert not firings.claim("daily", 1000.0, 2001.0)  # fired meanwhile: not twice
    finally:
        other.close()
    assert firings.last() == {"daily": 2000.0}


def test_the_old_data_folder_record_fills_in_what_the_index_lacks(
    firings: FiringLog, index_location: str, tmp_path: Path
):
    firings.claim("daily", None, 5000.0)
    data = tmp_path / "data"
    data.mkdir()
    (data / LEGACY_NAME).write_text(json.dumps({"daily": 1.0, "weekly": 4000.0}))
    FiringLog(index_location, legacy=data).close()
    assert firings.last() == {"daily": 5000.0, "weekly": 4000.0}  # the index's own wins
    (data / LEGACY_NAME).write_text("not json")
    FiringLog(index_location, legacy=data).close()  # unreadable: ignored
    assert firings.last() == {"daily": 5000.0, "weekly": 4000.0}


def test_a_pending_firing_is_finished_by_its_claimer_or_adopted_once(
    firings: FiringLog, index_location: str
):
    assert firings.claim("daily", None, 1000.0)  # first seen: nothing pending
    assert firings.pending() == {}
    assert firings.claim("daily", 1000.0, 2000.0, (1900.0, "host-a"))
    assert firings.pending() == {"daily": (1900.0, "host-a")}
    firings.finish("daily", "host-b")  # not its claimer: nothing happens
    assert firings.pending() == {"daily": (1900.0, "host-a")}
    other = FiringLog(index_location)  # the next holder of the duty, on the same index
    try:
        assert other.adopt("daily", "host-a", "host-b")
        assert not firings.adopt("daily", "host-a", "host-c")  # taken already: once
        assert other.pending() == {"daily": (1900.0, "host-b")}
        firings.finish("daily", "host-a")  # the dead claimer's late word changes nothing
        assert other.pending() == {"daily": (1900.0, "host-b")}
        other.finish("daily", "host-b")
        assert firings.pending() == {}
        assert not other.adopt("daily", "host-b", "host-c")  # nothing left to adopt
    finally:
        other.close()
    assert firings.last() == {"daily": 2000.0}
