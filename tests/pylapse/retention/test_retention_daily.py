"""tasks.retention_daily: each camera's retention once a day, from its local hour on."""

from __future__ import annotations

import time
from datetime import datetime
from pathlib import Path

from retention_support import BERLIN, NOW, make_config, make_frames

from pylapse.index.store import FrameIndex
from pylapse.retention.journal import TRASH, journals, read_journal
from pylapse.tasks.retention_daily import DailyRetention, due, last_run, run_due


def _at(day: int, hour: int, minute: int = 0) -> float:
    return datetime(2026, 4, day, hour, minute, tzinfo=BERLIN).timestamp()


def test_a_camera_runs_once_a_day_from_its_hour(tmp_path: Path) -> None:
    config = make_config(tmp_path, {"thin_minutes": 30})
    root = config.resolve("timelapse/porch")
    with FrameIndex(tmp_path / "pylapse.db") as index:
        make_frames(config, index)
        assert due(root, BERLIN, NOW)  # never ran
        first = run_due(config, index, NOW)
        assert first["porch"]["moved"] == 100
        assert last_run(root) == NOW
        assert run_due(config, index, _at(11, 23, 59)) == {}  # the same day
        assert run_due(config, index, _at(12, 2, 59)) == {}  # before 03:00 the next day
        assert not due(root, BERLIN, _at(12, 2, 59))
        assert due(root, BERLIN, _at(12, 3, 0))
        second = run_due(config, index, _at(12, 3, 0))
        assert second["porch"]["moved"] == 0 and last_run(root) == _at(12, 3, 0)


def test_a_failing_camera_does_not_stop_the_others(tmp_path: Path) -> None:
    config = make_config(tmp_path, {"thin_minutes": 30})
    gate = config.cameras["porch"].model_copy(update={"output_dir": str(tmp_path / "away")})
    config.cameras["gate"] = gate  # outside the storage roots
    with FrameIndex(tmp_path / "pylapse.db") as index:
        make_frames(config, index)
        result = run_due(config, index, NOW)
    assert "only inside the storage roots" in result["gate"]["error"]
    assert result["porch"]["moved"] == 100


def test_the_thread_runs_due_cameras_and_stops(tmp_path: Path) -> None:
    config = make_config(tmp_path, {"thin_minutes": 30})
    root = config.resolve("timelapse/porch")
    with FrameIndex(tmp_path / "pylapse.db") as index:
        daily = DailyRetention(lambda: config, index, every=0.02)
        daily.start()
        try:
            deadline = time.monotonic() + 60
            while not journals(root / TRASH) and time.monotonic() < deadline:
                time.sleep(0.02)
        finally:
            daily.stop()
    (journal,) = journals(root / TRASH)
    state = read_journal(journal)
    assert state is not None and state.finished is not None
    assert last_run(root) is not None
