"""HealthStore: the state machine, the bounded capture log, persistence in a real SQLite file."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from pylapse.capture.health import HealthState, HealthStore

BERLIN = ZoneInfo("Europe/Berlin")
T0 = datetime(2026, 3, 29, 1, 0, tzinfo=BERLIN)


@pytest.fixture
def store(tmp_path):
    s = HealthStore(tmp_path / "pylapse.db", offline_after=3, frozen_after=3)
    yield s
    s.close()


def _ok(store, i: int, *, digest: str | None = None, stddev: float = 40.0, camera="cam"):
    return store.record_success(
        camera,
        T0 + timedelta(minutes=i),
        path=f"/frames/{i}.jpg",
        frame_id=i,
        size=1000,
        digest=digest or f"d{i}",
        stddev=stddev,
        duration=0.1,
    )


def test_unknown_until_first_attempt(store):
    health = store.get("cam")
    assert health.state is HealthState.UNKNOWN and health.last_success is None


def test_success_then_failures_then_offline_then_recovery(store):
    assert _ok(store, 0) is HealthState.OK
    assert store.get("cam").last_frame_id == 0
    assert store.record_failure("cam", T0, "HTTP 500 from camera") is HealthState.FAILING
    assert store.record_failure("cam", T0, "timed out") is HealthState.FAILING
    assert store.record_failure("cam", T0, "timed out again") is HealthState.OFFLINE
    health = store.get("cam")
    assert health.state is HealthState.OFFLINE
    assert health.consecutive_failures == 3
    assert health.last_error == "timed out again"
    assert health.last_success == T0  # kept while failing
    assert _ok(store, 5) is HealthState.OK
    assert store.get("cam").consecutive_failures == 0


def test_frozen_after_identical_frames(store):
    assert _ok(store, 0, digest="same") is HealthState.OK
    assert _ok(store, 1, digest="same") is HealthState.OK
    assert _ok(store, 2, digest="same") is HealthState.FROZEN
    assert store.get("cam").identical_frames == 3
    assert "identical" in store.log(1)[0].message
    assert _ok(store, 3, digest="new") is HealthState.OK


def test_blank_picture(store):
    assert _ok(store, 0, stddev=0.3) is HealthState.BLANK
    assert "near-constant" in store.log(1, camera="cam")[0].message


def test_log_is_newest_first_and_filtered(store):
    _ok(store, 0)
    store.record_failure("other", T0, "boom", attempt=2)
    _ok(store, 1)
    entries = store.log(10)
    assert [e.ok for e in entries] == [True, False, True]
    assert entries[1].camera_id == "other" and entries[1].attempt == 2
    assert entries[0].time == T0 + timedelta(minutes=1)
    assert entries[0].time.utcoffset() == timedelta(hours=1)
    assert store.log_count() == 3 and store.log_count("cam") == 2
    assert [e.message for e in store.log(10, camera="other")] == ["boom"]
    assert len(store.log(1, offset=1)) == 1 and store.log(1, offset=1)[0].camera_id == "other"


def test_log_stays_bounded(tmp_path):
    store = HealthStore(tmp_path / "pylapse.db", max_log_rows=20)
    for i in range(200):
        _ok(store, i)
    assert store.log_count() <= 40
    assert store.log(1)[0].frame_id == 199  # the newest rows survive
    store.close()


def test_state_survives_reopen(tmp_path):
    store = HealthStore(tmp_path / "pylapse.db")
    store.record_failure("cam", T0, "connection refused")
    store.set_paused_reason("cam", "capture paused: 1 MB free")
    store.close()
    again = HealthStore(tmp_path / "pylapse.db")
    health = again.get("cam")
    assert health.state is HealthState.FAILING
    assert health.last_error == "connection refused"
    assert health.paused_reason == "capture paused: 1 MB free"
    again.close()


def test_paused_reason_and_disabled(store):
    assert store.set_paused_reason("cam", "disk low") is True
    assert store.set_paused_reason("cam", "disk low") is False  # no change, no log spam
    assert store.log(1)[0].message == "disk low"
    assert store.set_paused_reason("cam", None) is True
    assert store.get("cam").paused_reason is None
    assert store.log(1)[0].message == "capture resumed"
    store.set_enabled("cam", False)
    assert store.get("cam").state is HealthState.DISABLED
    store.set_enabled("cam", True)
    assert store.get("cam").state is not HealthState.DISABLED


def test_bytes_per_day(store):
    assert store.bytes_per_day("cam") is None
    now = datetime.now(BERLIN)
    for i in range(3):
        store.record_success(
            "cam",
            now - timedelta(hours=i),
            path="/f.jpg",
            frame_id=i,
            size=1_000_000,
            digest=str(i),
            stddev=30,
            duration=0.1,
        )
    rate = store.bytes_per_day("cam")
    # 3 MB over the ~2 h the frames span -> ~36 MB/day
    assert 30e6 < rate < 40e6


def _disk_full(store: HealthStore) -> None:
    """Fault injection at the database boundary: SQLite itself answers SQLITE_FULL ("database
    or disk is full") for any write that needs another page, as on a real full disk."""
    pages = store._conn.execute("PRAGMA page_count").fetchone()[0]
    store._conn.execute(f"PRAGMA max_page_count = {pages}")


def _room_again(store: HealthStore) -> None:
    store._conn.execute("PRAGMA max_page_count = 1073741823")


def _fill_until_held(store: HealthStore) -> int:
    """Fill the database's last page with frames until a write is held; the frames tried."""
    _disk_full(store)
    written = 1
    while _ok(store, written) is not None:  # rows fit on the last page until it is full
        written += 1
        assert written < 500
    return written


def test_a_full_disk_holds_writes_shows_why_and_writes_them_when_there_is_room(store, tmp_path):
    _ok(store, 0)
    written = _fill_until_held(store)
    assert store.full is not None  # that write was held, not raised
    for i in range(written + 1, written + 5):
        assert _ok(store, i) is None  # and every later one is held behind it
    assert store.record_failure("cam", T0, "timed out") is None
    assert store.set_paused_reason("cam", "disk low") is True
    reason = store.full
    assert reason == f"the disk holding the data folder ({tmp_path}) is full: " + (
        "capture paused; free space to resume"
    )
    assert store.get("cam").paused_reason == reason  # what the dashboard shows meanwhile
    assert store.get("never-seen").paused_reason == reason
    assert store.log(1)[0].frame_id == written - 1  # nothing more written yet
    assert store.try_resume() is False  # still full
    _room_again(store)
    assert store.try_resume() is True
    assert store.full is None
    messages = [e.message for e in store.log(40)]
    assert messages[0] == "disk low" and messages[1] == "timed out"  # in the order they came
    assert store.log_count() == written + 5 + 2
    health = store.get("cam")
    assert health.paused_reason == "disk low" and health.state is HealthState.FAILING


def test_a_full_disk_keeps_only_the_newest_held_writes(store, monkeypatch):
    import pylapse.capture.heldwrites as heldwrites_module

    monkeypatch.setattr(heldwrites_module, "MAX_HELD_WRITES", 5)
    _disk_full(store)
    store.mark_full()
    for i in range(8):
        _ok(store, i)
    _room_again(store)
    assert store.try_resume() is True
    messages = [e.message for e in store.log(10)]
    assert messages[0] == "3 health updates made while the disk was full were lost"
    assert [e.frame_id for e in store.log(10)[1:]] == [7, 6, 5, 4, 3]


def test_log_rows_say_what_they_are(store) -> None:
    from pylapse.capture.health import LogKind

    _ok(store, 0)
    store.record_failure("cam", T0, "timed out", duration=10.0)
    store.set_paused_reason("cam", "paused by the user")
    store.set_paused_reason("cam", None)
    kinds = [(e.kind, e.ok) for e in store.log()]
    assert kinds == [(LogKind.RESUME, True), (LogKind.PAUSE, False),
                     (LogKind.CAPTURE, False), (LogKind.CAPTURE, True)]  # fmt: skip


def test_pause_rows_written_before_the_kind_column_are_found(tmp_path) -> None:
    import sqlite3

    from pylapse import db
    from pylapse.capture import healthdb
    from pylapse.capture.health import LogKind

    path = tmp_path / "pylapse.db"
    conn = sqlite3.connect(path)
    db.migrate(conn, "health", healthdb.STEPS[:1])
    rows = [("cam", 1.0, 0, 0, "timed out", None, 10.0), ("cam", 2.0, 0, 0, "paused", None, None),
            ("cam", 3.0, 0, 1, "capture resumed", None, None),
            ("cam", 4.0, 0, 1, "saved /a.jpg", "/a.jpg", 0.2)]  # fmt: skip
    conn.executemany("INSERT INTO capture_log(camera_id, utc, offset, ok, message, path,"
                     " duration) VALUES (?,?,?,?,?,?,?)", rows)  # fmt: skip
    conn.commit()
    conn.close()
    store = HealthStore(path)
    try:
        assert [e.kind for e in store.log()] == [
            LogKind.CAPTURE, LogKind.RESUME, LogKind.PAUSE, LogKind.CAPTURE
        ]
    finally:
        store.close()


def test_the_disk_estimate_averages_a_day_not_what_the_log_still_holds(tmp_path) -> None:
    # a day of frames every 10 min: small at night (first 12 h), large by day (last 12 h); the
    # capture log keeps only its last 50 rows, as a busy installation's log keeps only hours
    store = HealthStore(tmp_path / "pylapse.db", max_log_rows=50)
    now = datetime.now(BERLIN)
    try:
        for i in range(144, 0, -1):
            size = 500_000 if i > 72 else 2_000_000
            store.record_success("cam", now - timedelta(minutes=10 * i) + timedelta(seconds=1),
                                 path=f"/f{i}.jpg", frame_id=None, size=size, digest=str(i),
                                 stddev=30, duration=0.1)  # fmt: skip
        assert store.log_count() <= 100  # the log lost the night
        rate = store.bytes_per_day("cam")
        assert rate is not None
        day_mean = 72 * 500_000 + 72 * 2_000_000  # 180 MB in the day that passed
        assert abs(rate - day_mean) / day_mean < 0.05, rate
    finally:
        store.close()


def test_a_young_camera_is_not_extrapolated_from_seconds(store) -> None:
    now = datetime.now(BERLIN)
    store.record_success("cam", now, path="/f.jpg", frame_id=1, size=1_000_000, digest="a",
                         stddev=30, duration=0.1)  # fmt: skip
    # one frame: taken over at least ten minutes (144 MB/day), not over the seconds since
    assert store.bytes_per_day("cam") == pytest.approx(144e6, rel=0.01)


def _scored(store, i: int, luma: float, distance: int | None, yesterday: float | None = None):
    return store.record_success(
        "cam",
        T0 + timedelta(minutes=i),
        path=f"/frames/{i}.jpg",
        frame_id=i,
        size=1000,
        digest=f"d{i}",  # re-encoded: never the same bytes
        stddev=40.0,
        duration=0.1,
        luma=luma,
        hash_distance=distance,
        luma_yesterday=yesterday,
    )


def test_the_same_picture_re_encoded_is_frozen(store):
    assert _scored(store, 0, 120.0, None) is HealthState.OK
    assert _scored(store, 1, 120.01, 0) is HealthState.OK
    assert _scored(store, 2, 120.0, 0) is HealthState.FROZEN
    assert "same picture 3 times" in store.log(1)[0].message
    assert _scored(store, 3, 121.5, 0) is HealthState.OK  # light moved: alive again


def test_a_still_scene_with_live_exposure_is_not_frozen(store):
    # the hash does not move (nothing happens in the scene), the sensor's luma does
    for i, luma in enumerate((120.0, 120.3, 119.8, 120.6, 120.1)):
        assert _scored(store, i, luma, 0 if i else None) is HealthState.OK


def test_a_frozen_picture_far_darker_than_yesterday_is_frozen_as_the_index_says(store):
    """Frozen says more than dark (pylapse.selection.dead_camera): health and the index's
    verdicts order them alike (health put dark first)."""
    assert _scored(store, 0, 20.0, None, yesterday=115.0) is HealthState.DARK
    assert _scored(store, 1, 20.0, 0, yesterday=115.0) is HealthState.DARK
    assert _scored(store, 2, 20.0, 0, yesterday=115.0) is HealthState.FROZEN
    assert store.get("cam").reason == "the same picture 3 times in a row (re-encoded)"


def test_far_darker_than_yesterday_is_dark(store):
    assert _scored(store, 0, 110.0, None, yesterday=115.0) is HealthState.OK
    assert _scored(store, 1, 20.0, 30, yesterday=115.0) is HealthState.DARK
    assert "darker than the same time yesterday" in store.log(1)[0].message
    reason = "far darker than the same time yesterday (luma 20, was 115)"
    assert store.get("cam").reason == reason
    # a night frame after a night frame yesterday is not a dead camera
    assert _scored(store, 2, 8.0, 30, yesterday=12.0) is HealthState.OK


@pytest.mark.network
def test_a_camera_serving_one_image_turns_frozen(store, tmp_path):
    from pylapse.capture.camera import Camera
    from pylapse.config.cameras import CameraConfig
    from tests.servers.camera_server import CameraServer

    with CameraServer(frame_size=(320, 240)) as server:
        cfg = CameraConfig(name="Porch", url=server.url("/static.jpg"), output_dir=str(tmp_path))
        camera = Camera("Porch", config=cfg, camera_id="cam", output_dir=tmp_path)
        changes = []
        store.listener = changes.append
        states = []
        for i in range(3):
            result = camera.capture(T0 + timedelta(minutes=i))
            states.append(
                store.record_success(
                    "cam",
                    result.time,
                    path=result.path,
                    frame_id=i,
                    size=result.size,
                    digest=result.digest,
                    stddev=result.stddev,
                    duration=result.duration,
                    luma=result.luma,
                    hash_distance=result.hash_distance,
                )
            )
    assert states == [HealthState.OK, HealthState.OK, HealthState.FROZEN]
    assert store.get("cam").state is HealthState.FROZEN
    assert [(c.old, c.new) for c in changes] == [
        (HealthState.UNKNOWN, HealthState.OK),
        (HealthState.OK, HealthState.FROZEN),
    ]


# --- the health change event ------------------------------------------------------------------


def test_each_change_of_state_is_told_once_and_repeats_are_not(tmp_path):
    from pylapse.capture.health import HealthChange

    changes: list[HealthChange] = []
    store = HealthStore(
        tmp_path / "pylapse.db", offline_after=3, frozen_after=3, listener=changes.append
    )
    try:
        for i in range(6):  # a frozen run of identical frames: frozen from the third on
            _ok(store, i, digest="same")
        assert [(c.old, c.new) for c in changes] == [
            (HealthState.UNKNOWN, HealthState.OK),
            (HealthState.OK, HealthState.FROZEN),
        ]
        frozen = changes[1]
        assert frozen.camera_id == "cam" and frozen.reason == "3 identical frames in a row"
        assert frozen.time == T0 + timedelta(minutes=2)
        assert frozen.time.utcoffset() == timedelta(0)  # aware, in UTC
        assert store.get("cam").reason == "6 identical frames in a row"  # the card's words
        _ok(store, 6)  # a new picture
        for _ in range(4):
            store.record_failure("cam", T0, "timed out")
        _ok(store, 7)
        assert [(c.old, c.new) for c in changes[2:]] == [
            (HealthState.FROZEN, HealthState.OK),
            (HealthState.OK, HealthState.FAILING),
            (HealthState.FAILING, HealthState.OFFLINE),
            (HealthState.OFFLINE, HealthState.OK),
        ]
        assert changes[2].reason == "the picture is alive again"
        assert changes[4].reason == "3 failed attempts in a row: timed out"
        assert changes[5].reason == "capturing again"
        assert store.get("cam").reason is None  # ok: nothing to explain
    finally:
        store.close()


def test_a_blank_picture_is_a_change_with_its_reason(tmp_path):
    changes = []
    store = HealthStore(tmp_path / "pylapse.db", listener=changes.append)
    try:
        _ok(store, 0)
        _ok(store, 1, stddev=0.3)
        _ok(store, 2, stddev=0.4)
        assert [(c.old, c.new) for c in changes] == [
            (HealthState.UNKNOWN, HealthState.OK),
            (HealthState.OK, HealthState.BLANK),
        ]
        assert changes[1].reason == "picture is near-constant (stddev 0.3)"
        assert store.get("cam").reason == "picture is near-constant (stddev 0.4)"
    finally:
        store.close()


def test_a_failing_listener_never_stops_capture(tmp_path):
    def broken(change):
        raise RuntimeError("the notifier is down")

    store = HealthStore(tmp_path / "pylapse.db", listener=broken)
    try:
        assert _ok(store, 0) is HealthState.OK
        assert store.record_failure("cam", T0, "timed out") is HealthState.FAILING
        assert store.get("cam").state is HealthState.FAILING
    finally:
        store.close()


def test_changes_held_by_a_full_disk_are_told_when_written(store):
    changes = []
    store.listener = changes.append
    _ok(store, 0)
    _fill_until_held(store)
    for _ in range(3):
        assert store.record_failure("cam", T0, "timed out") is None
    assert [c.new for c in changes] == [HealthState.OK]  # held: nothing happened yet
    assert store.try_resume() is False  # still no room: the replay was rolled back
    assert [c.new for c in changes] == [HealthState.OK]
    _room_again(store)
    assert store.try_resume() is True
    assert [(c.old, c.new) for c in changes[1:]] == [
        (HealthState.OK, HealthState.FAILING),
        (HealthState.FAILING, HealthState.OFFLINE),
    ]
