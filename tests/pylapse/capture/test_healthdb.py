"""Camera health in the index database (issue 21 §2): written by one host, read by another;
a data folder's own health carried over once; the full-disk reason names the data folder.

Every test runs on SQLite and on PostgreSQL (the ``index_location`` fixture).
"""

from __future__ import annotations

import contextlib
import io
import logging
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from PIL import Image

from pylapse import db
from pylapse.capture.health import HealthState, HealthStore, as_seen

# recent: bytes_per_day reads the last day
T0 = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1)


def _ok(store: HealthStore, camera: str, i: int, size: int = 1000) -> HealthState | None:
    return store.record_success(
        camera, T0 + timedelta(seconds=10 * i), path=f"/f/{camera}/{i}.jpg", frame_id=i,
        size=size, digest=f"d{i}", stddev=40.0, duration=0.2,
    )  # fmt: skip


def test_health_written_by_one_host_is_read_by_another(index_location, tmp_path):
    a = HealthStore(index_location, data_path=tmp_path / "a")
    b = HealthStore(index_location, data_path=tmp_path / "b")
    try:
        _ok(a, "porch", 1)
        a.record_failure("roof", T0, "timed out", duration=10.0)
        # the volume upsert keeps the earliest first_utc (no two-argument MIN on PostgreSQL)
        a.record_success("porch", T0 - timedelta(seconds=5), path="/f/x.jpg", frame_id=9,
                         size=500, digest="dx", stddev=40.0, duration=0.1)  # fmt: skip
        seen = b.get("porch")
        assert (seen.state, seen.last_frame_id) == (HealthState.OK, 9)
        assert b.get("roof").state is HealthState.FAILING
        assert [(e.camera_id, e.ok) for e in b.log()] == [
            ("porch", True), ("roof", False), ("porch", True)
        ]
        assert b.log_count(camera="porch") == 2
        assert b.bytes_per_day("porch") is not None
    finally:
        a.close()
        b.close()


def test_a_silent_hosts_camera_is_host_silent_with_its_name(index_location, tmp_path):
    store = HealthStore(index_location, data_path=tmp_path / "a")
    try:
        _ok(store, "porch", 1)
        health = store.get("porch")
    finally:
        store.close()
    assert as_seen(health, "host-a", host_live=True).state is HealthState.OK
    silent = as_seen(health, "host-a", host_live=False)
    assert silent.state is HealthState.HOST_SILENT and silent.state == "host silent"
    assert silent.recorded is HealthState.OK and silent.host == "host-a"
    assert "host-a" in (silent.reason or "")
    assert as_seen(health, None, host_live=False) == health  # nobody held it: as recorded


def _local_history(folder):
    """A data folder with its own health, as pyLapse kept it before health moved."""
    local = HealthStore(folder / db.DB_NAME)
    _ok(local, "porch", 1)
    _ok(local, "porch", 2)
    local.record_failure("yard", T0, "refused", duration=1.0)
    local.close()


def test_a_data_folders_own_health_is_carried_over_once(index_location, tmp_path):
    folder = tmp_path / "data"
    folder.mkdir()
    if db.backend_of(index_location) is db.Backend.SQLITE:
        index_location = str(tmp_path / "elsewhere" / "index.db")
        (tmp_path / "elsewhere").mkdir()
    _local_history(folder)
    store = HealthStore(index_location, data_path=folder)
    try:
        assert store.get("porch").last_frame_id == 2
        assert store.get("yard").state is HealthState.FAILING
        assert store.log_count() == 3
        assert store.bytes_per_day("porch") is not None  # the volume came too
        _ok(store, "porch", 3)
    finally:
        store.close()
    again = HealthStore(index_location, data_path=folder)
    try:
        assert again.log_count() == 4  # not copied a second time
        assert again.get("porch").last_frame_id == 3  # nor the old state over the new one
    finally:
        again.close()


def test_nothing_moves_when_the_index_is_the_data_folders_file(tmp_path):
    _local_history(tmp_path)
    store = HealthStore(tmp_path / db.DB_NAME, data_path=tmp_path)
    try:
        assert store.log_count() == 3
    finally:
        store.close()
    conn = db.connect(tmp_path / db.DB_NAME)
    tables = conn.execute("SELECT name FROM sqlite_master WHERE name = 'health_carried'")
    assert tables.fetchall() == []  # no copy was made, so none is noted
    conn.close()


def _full_frames_table(url: str) -> contextlib.AbstractContextManager[None]:
    """While in it, adding a frame on PostgreSQL fails as a full disk does there (SQLSTATE
    53100, disk_full): a trigger, dropped afterwards (the session's schema outlives the test)."""
    import psycopg

    @contextlib.contextmanager
    def full() -> Iterator[None]:
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(
                "CREATE FUNCTION test_healthdb_full() RETURNS trigger LANGUAGE plpgsql AS $f$"
                " BEGIN RAISE EXCEPTION 'could not extend file: No space left on device'"
                " USING ERRCODE = '53100'; END $f$"
            )
            conn.execute("CREATE TRIGGER test_healthdb_full BEFORE INSERT ON frames"
                         " FOR EACH ROW EXECUTE FUNCTION test_healthdb_full()")  # fmt: skip
            try:
                yield
            finally:
                conn.execute("DROP TRIGGER test_healthdb_full ON frames")
                conn.execute("DROP FUNCTION test_healthdb_full()")

    return full()


def test_a_full_index_on_postgresql_is_said_on_the_data_folder_not_the_cwd(
    index_location, tmp_path, caplog
):
    from pylapse.capture.camera import Camera, NotIndexed
    from pylapse.capture.retry import AttemptRunner
    from pylapse.config.cameras import CameraConfig
    from pylapse.index.store import FrameIndex

    if db.backend_of(index_location) is db.Backend.SQLITE:
        pytest.skip("SQLite's full disk: test_disk.py (its path is the data folder's file)")
    folder = tmp_path / "data"
    picture = Image.effect_noise((64, 48), 60).convert("RGB")
    buffer = io.BytesIO()
    picture.save(buffer, "JPEG")

    class Fixed:
        def grab(self, when=None):  # type: ignore[no-untyped-def]
            return buffer.getvalue()

        def close(self) -> None:
            pass

    cfg = CameraConfig(name="x", type="synthetic", output_dir=str(tmp_path), timezone="UTC")
    camera = Camera("x", config=cfg, output_dir=tmp_path / "frames", source=Fixed(),
                    data_path=folder)  # fmt: skip
    store = HealthStore(index_location, data_path=folder)
    index = FrameIndex(index_location)
    want = f"the disk holding the data folder ({folder}) is full"
    try:
        with _full_frames_table(index_location):
            with pytest.raises(NotIndexed) as caught:
                camera.capture(T0, index)
            assert want in str(caught.value)  # not "(.)", FrameIndex.path's folder on PostgreSQL
            runner = AttemptRunner(index=index, health=store, data_path=folder)
            with caplog.at_level(logging.INFO, logger="pylapse.capture"):
                attempt = runner.run(camera, T0 + timedelta(seconds=10))
        assert attempt.result is not None and attempt.result.frame_id is None  # kept, unindexed
        assert (store.full or "").startswith(want)
        assert f"not indexed yet: {want}" in caplog.text
    finally:
        index.close()
        store.close()


def test_a_capture_on_host_a_is_on_host_bs_dashboard(index_location, tmp_path):
    import json

    from pylapse.config.file import load_config
    from pylapse.runtime import Runtime
    from pylapse.sources.base import GrabError

    pg = index_location.startswith("postgresql")

    def config(host: str):  # type: ignore[no-untyped-def]
        # on PostgreSQL each host its own data folder; SQLite's index is a shared data folder
        data = host if pg else "shared"
        raw = {
            "cameras": {"roof": {"url": "http://127.0.0.1:9/shot.jpg", "output_dir": "frames",
                                 "schedules": [{"id": "h", "type": "interval",
                                                "interval_amount": 1, "interval_unit": "hours"}]}},
            "data_dir": data, "min_free_mb": 0,
            **({"index_url": index_location} if pg else {}),
        }  # fmt: skip
        path = tmp_path / f"{host}.json"
        path.write_text(json.dumps(raw))
        return load_config(path)

    a = Runtime(config("a"), jobs=False, host="host-a")
    a.start()
    b = Runtime(config("b"), scheduler=False, jobs=False, host="host-b")
    try:
        with pytest.raises(GrabError):
            a.grab_now("roof")  # nothing listens on port 9: a failed attempt, recorded by a
        seen = b.camera_health("roof")
        assert (seen.state, seen.host) == (HealthState.FAILING, "host-a")
        assert [(e.camera_id, e.ok) for e in b.health.log()] == [("roof", False)]
        b.health.mark_full()  # b's own data folder is full: not a pause of a's camera
        assert b.camera_health("roof").paused_reason is None
        assert b.health.get("roof").paused_reason == b.health.full
    finally:
        b.stop()
        a.stop()
