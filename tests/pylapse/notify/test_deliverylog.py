"""pylapse.notify.deliverylog: rows in pylapse.db, as a component with its own schema."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from pylapse import db
from pylapse.notify.deliverylog import STOPPED, DeliveryLog, DeliveryStatus

WHEN = datetime(2026, 5, 1, 8, 0, tzinfo=UTC)


def test_rows_are_added_updated_and_listed_newest_first(tmp_path: Path) -> None:
    log = DeliveryLog(tmp_path)
    first = log.add("ops", "render.done", "Render porch", WHEN, "https://h/x", test=False)
    second = log.add("chat", "camera.offline", "porch", WHEN, "tgram://1...d/", test=True)
    log.update(first, DeliveryStatus.DELIVERED, 3, "HTTP 200")
    rows = log.recent()
    assert [r.id for r in rows] == [second, first]
    assert rows[1].status is DeliveryStatus.DELIVERED and rows[1].attempts == 3
    assert rows[1].detail == "HTTP 200" and rows[1].event_time == WHEN
    assert rows[0].status is DeliveryStatus.PENDING and rows[0].test
    assert [r.id for r in log.recent(rule="chat")] == [second]
    assert log.get(first) == rows[1] and log.get(9999) is None
    log.close()
    conn = db.connect(tmp_path)
    assert db.schema_version(conn, "notify") == 1
    conn.close()


def test_rows_a_crashed_process_left_pending_are_closed_as_failed(tmp_path: Path) -> None:
    log = DeliveryLog(tmp_path)
    row = log.add("ops", "disk.low", "/data", WHEN, "https://h/x", test=False)
    beside = DeliveryLog(tmp_path)  # another process opening the log while this one sends
    got = beside.get(row)
    assert got is not None and got.status is DeliveryStatus.PENDING
    beside.close()
    log.close()
    again = DeliveryLog(tmp_path, stale_after=0)  # as if an hour had passed
    got = again.get(row)
    assert got is not None and got.status is DeliveryStatus.FAILED and got.detail == STOPPED
    again.close()


def test_old_rows_are_pruned(tmp_path: Path) -> None:
    log = DeliveryLog(tmp_path, keep=10)
    ids = [log.add("ops", "disk.low", "/d", WHEN, "u", test=False) for _ in range(60)]
    left = [r.id for r in log.recent(limit=100)]
    assert ids[-1] in left and ids[0] not in left
    assert len(left) <= 60 - 40  # pruned at row 50 down to its newest 10, then 10 more
    log.close()
