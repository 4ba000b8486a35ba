"""Runtime, the composition root: config -> index -> health -> scheduler, on real files."""

from __future__ import annotations

import json

import pytest

from pylapse.capture.health import HealthState
from pylapse.config.base import ConfigError
from pylapse.config.file import load_config, parse_config
from pylapse.sources.base import GrabError
from tests.servers.camera_server import CameraServer

pytest.importorskip("pylapse.index.store")

from pylapse.runtime import Runtime  # after the skip guard: it needs pylapse.index

pytestmark = pytest.mark.network


@pytest.fixture(scope="module")
def server():
    with CameraServer(frame_size=(160, 120)) as cam:
        yield cam


def _config_file(tmp_path, server):
    raw = {
        "_comment": "kept on save",
        "cameras": {
            "porch": {
                "name": "Porch",
                "url": server.url("/shot.jpg"),
                "output_dir": "frames/porch",
                "timezone": "Europe/Berlin",
                "schedules": [{"id": "noon", "hour": 12}],
            },
            "broken": {
                "name": "Broken",
                "url": server.url("/error500"),
                "output_dir": "frames/broken",
            },
        },
        "collections": {
            "old": {"name": "Old archive", "path": "frames/old", "timezone": "UTC"},
        },
        "data_dir": "data",
        "storage_roots": ["frames"],
        "min_free_mb": 0,
    }
    path = tmp_path / "capture_config.json"
    path.write_text(json.dumps(raw))
    return path


@pytest.fixture
def runtime(tmp_path, server):
    rt = Runtime(load_config(_config_file(tmp_path, server)))
    rt.start()
    yield rt
    rt.stop()


def test_grab_now_saves_indexes_and_records_health(runtime, tmp_path):
    result = runtime.grab_now("porch")
    assert result.path.is_file() and result.path.is_relative_to(tmp_path / "frames/porch")
    assert runtime.index.count("porch") == 1
    assert runtime.index.get(result.frame_id).path == result.path
    health = runtime.health.get("porch")
    assert health.state is HealthState.OK and health.last_frame_id == result.frame_id
    assert runtime.health.log(1)[0].path == str(result.path)


def test_grab_now_failure_says_why(runtime):
    with pytest.raises(GrabError, match="500"):
        runtime.grab_now("broken")
    assert runtime.health.get("broken").state is HealthState.FAILING
    with pytest.raises(KeyError):
        runtime.grab_now("nope")


def test_collections_include_each_camera(runtime):
    runtime.grab_now("porch")
    colls = runtime.collections()
    assert set(colls) == {"porch", "broken", "old"}
    assert len(colls["porch"]) == 1
    assert str(colls["porch"]).startswith("Image Collection: Porch")


def test_a_collection_made_from_a_camera_replaces_its_implicit_one(runtime, tmp_path):
    runtime.grab_now("porch")
    raw = json.loads((tmp_path / "capture_config.json").read_text())
    raw["collections"]["porch-archive"] = {
        "name": "Porch archive",
        "path": "frames/porch",
        "camera": "porch",
        "timezone": "Europe/Berlin",
    }
    runtime.apply_config(parse_config(raw, tmp_path / "capture_config.json"))
    colls = runtime.collections()
    assert set(colls) == {"broken", "old", "porch-archive"}  # the porch frames, listed once
    assert len(colls["porch-archive"]) == 1


def test_apply_config_saves_and_reloads(runtime, tmp_path):
    before = {(r.camera_id, r.schedule_id) for r in runtime.scheduler.next_runs(5)}
    assert before == {("porch", "noon")}
    raw = json.loads((tmp_path / "capture_config.json").read_text())
    raw["cameras"]["broken"]["schedules"] = [{"id": "night", "hour": 0}]
    runtime.apply_config(parse_config(raw, tmp_path / "capture_config.json"))
    saved = load_config(tmp_path / "capture_config.json")
    assert [s.id for s in saved.cameras["broken"].schedules] == ["night"]
    assert "kept on save" in (tmp_path / "capture_config.json").read_text()
    after = {(r.camera_id, r.schedule_id) for r in runtime.scheduler.next_runs(10)}
    assert after == {("porch", "noon"), ("broken", "night")}
    raw["data_dir"] = "elsewhere"
    with pytest.raises(ConfigError, match="restart"):
        runtime.apply_config(parse_config(raw, tmp_path / "capture_config.json"))


def test_one_scheduler_per_camera(runtime, tmp_path, server):
    config = load_config(tmp_path / "capture_config.json")
    second = Runtime(config)
    second.start()  # not refused: it waits for the cameras the first one holds
    assert runtime.scheduler.leases.held == {"porch"}
    assert second.scheduler.leases.held == frozenset()
    assert second._captured_here().cameras == {}  # nor does it run their retention
    second.stop()
    viewer = Runtime(config, scheduler=False)  # e.g. a read-only tool: no lease needed
    viewer.start()
    assert viewer.camera("porch").id == "porch"
    viewer.stop()


def test_volume_usage_estimates_days_until_full(runtime):
    runtime.grab_now("porch")
    volumes = runtime.volume_usage()
    assert len(volumes) >= 1
    assert volumes[0].free > 0
    assert volumes[0].days_until_full is not None


def test_health_changes_reach_the_listeners_once_per_change(tmp_path, server):
    from pylapse.capture.health import HealthChange

    path = _config_file(tmp_path, server)
    raw = json.loads(path.read_text())
    raw["cameras"]["still"] = {
        "name": "Still",
        "url": server.url("/static.jpg"),  # one picture for ever: a frozen camera
        "output_dir": "frames/still",
    }
    path.write_text(json.dumps(raw))
    rt = Runtime(load_config(path), scheduler=False, jobs=False)
    seen: list[HealthChange] = []
    others: list[HealthChange] = []

    def broken(change: HealthChange) -> None:
        raise RuntimeError("a listener's own bug")

    rt.add_health_listener(broken)  # first: it must not keep the change from the others
    rt.add_health_listener(seen.append)
    remove = rt.add_health_listener(others.append)
    try:
        for _ in range(7):
            rt.grab_now("still")
        assert [(c.camera_id, c.old, c.new) for c in seen] == [
            ("still", HealthState.UNKNOWN, HealthState.OK),
            ("still", HealthState.OK, HealthState.FROZEN),  # the fifth frame, told once
        ]
        assert seen[1].reason == "5 identical frames in a row"
        assert seen[1].time.tzinfo is not None and seen[1].time.utcoffset().total_seconds() == 0
        assert others == seen
        remove()
        with pytest.raises(GrabError):
            rt.grab_now("broken")
        assert [(c.camera_id, c.new) for c in seen[2:]] == [("broken", HealthState.FAILING)]
        assert len(others) == 2  # unsubscribed
    finally:
        rt.stop()
