"""capture_config.json: bad files refused with exact messages, 0.2 files load, saves are safe."""

from __future__ import annotations

import copy
import json
import os
from pathlib import Path

import pytest

from pylapse.config import models as config_module
from pylapse.config.backups import backups
from pylapse.config.base import ConfigError
from pylapse.config.cameras import CameraConfig, Schedule
from pylapse.config.file import load_config, parse_config, save_config
from pylapse.config.models import Config

CAMERA = {
    "name": "Porch",
    "url": "http://cam.local/shot.jpg",
    "output_dir": "timelapse/porch",
    "schedules": [{"id": "day", "minute": "*/5"}],
}


def camera(**changes) -> dict:
    data = copy.deepcopy(CAMERA)
    data.update(changes)
    return {"cameras": {"porch": data}}


def write(tmp_path: Path, data=None, *, text: str | None = None) -> Path:
    path = tmp_path / "capture_config.json"
    path.write_text(text if text is not None else json.dumps(data, indent=2), encoding="utf-8")
    return path


def error_of(path: Path) -> str:
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    return str(caught.value)


# --- bad input, each with its exact message ---------------------------------------------------

BAD = {
    "unknown key with did-you-mean": (
        camera(timezon="UTC"),
        "cameras.porch.timezon: unknown key 'timezon'; did you mean 'timezone'?",
    ),
    "unknown top-level key": (
        {"max_retry": 3},
        "max_retry: unknown key 'max_retry'; did you mean 'max_retries'?",
    ),
    "wrong type": (
        {"max_retries": "many"},
        "max_retries: 'many' is not accepted; expected a whole number",
    ),
    "bad zone": (
        camera(timezone="Mars/Base"),
        "cameras.porch.timezone: 'Mars/Base' is not an IANA time zone (for example 'Asia/Tokyo')",
    ),
    "bad cron field": (
        camera(schedules=[{"id": "day", "minute": "61"}]),
        "cameras.porch.schedules.0.minute: '61' is not a valid cron minute field: "
        "the last value (61) is higher than the maximum value (59)",
    ),
    "cron field of the wrong type": (
        camera(schedules=[{"id": "day", "hour": [6]}]),
        "cameras.porch.schedules.0.hour: [6] is not accepted; "
        "a cron field is a number or an expression such as '*/15'",
    ),
    "cron schedule with no field": (
        camera(schedules=[{"id": "day"}]),
        "cameras.porch.schedules.0: a cron schedule needs at least one of year, month, day, week, "
        'day_of_week, hour, minute, second (or "type": "interval" with interval_amount)',
    ),
    "interval without amount": (
        camera(schedules=[{"id": "fast", "type": "interval", "interval_unit": "seconds"}]),
        "cameras.porch.schedules.0: an interval schedule needs 'interval_amount' (a number > 0)",
    ),
    "unknown interval unit": (
        camera(
            schedules=[
                {"id": "f", "type": "interval", "interval_amount": 2, "interval_unit": "fortnights"}
            ]
        ),
        "cameras.porch.schedules.0.interval_unit: 'fortnights' is not accepted; "
        "expected 'seconds', 'minutes', 'hours', 'days' or 'weeks'",
    ),
    "bad start date": (
        camera(
            schedules=[
                {"id": "f", "type": "interval", "interval_amount": 2, "start_date": "tomorrow"}
            ]
        ),
        "cameras.porch.schedules.0.start_date: 'tomorrow' is not accepted; "
        "expected a date and time such as '2026-02-09T06:00:00'",
    ),
    "duplicate schedule ids": (
        camera(schedules=[{"id": "a", "minute": 1}, {"id": "a", "minute": 2}]),
        "cameras.porch.schedules: schedule ids must be unique; repeated: a",
    ),
    "a cron that never fires": (
        camera(schedules=[{"id": "leap", "month": 2, "day": 31, "hour": 7}]),
        "cameras.porch.schedules.0: schedule 'leap' never fires: 31 February never happens",
    ),
    "a cron whose day exists in none of its months": (
        camera(schedules=[{"id": "short", "month": "4,6", "day": 31}]),
        "cameras.porch.schedules.0: schedule 'short' never fires: no date has month='4,6', day=31",
    ),
    "template with an unknown field": (
        camera(filename_format="{prefix}{stamp}.{ext}"),
        "cameras.porch.filename_format: '{prefix}{stamp}.{ext}' uses unknown field {stamp}; "
        "accepted: {prefix}, {camera}, {timestamp}, {tz}, {tz_offset}, {ext}",
    ),
    "template whose names collide": (
        camera(filename_format="{prefix}{timestamp:%H-%M-%S}.{ext}"),
        "cameras.porch.filename_format: '{prefix}{timestamp:%H-%M-%S}.{ext}' gives two frames "
        "one day apart the same name ('p02-30-05.jpg'); include %Y %m %d %H %M %S",
    ),
    "bad regex pattern": (
        {"collections": {"old": {"name": "Old", "path": "old", "filename_pattern": "(?P<year>"}}},
        "collections.old.filename_pattern: '(?P<year>' is not a valid regular expression: "
        "missing ), unterminated subpattern at position 0",
    ),
    "regex pattern without the needed groups": (
        {"collections": {"old": {"name": "Old", "path": "old", "filename_pattern": r"(\d+)"}}},
        r"collections.old.filename_pattern: '(\\d+)' lacks the named group(s) year, month, day, "
        "hour, minute; use (?P<year>...) etc. Accepted groups: ampm, day, fraction, hour, minute, "
        "month, offset, second, seconds, year",
    ),
    "missing url for http camera": (
        camera(url=None),
        "cameras.porch: a camera of type 'http' needs a 'url' "
        '(or "enabled": false to keep it without one)',
    ),
    "url of the wrong scheme, password hidden": (
        camera(url="ftp://admin:hunter2@cam.local/shot.jpg"),
        "cameras.porch.url: 'ftp://admin:***@cam.local/shot.jpg' must start with http:// or "
        "https://",
    ),
    "password of the wrong type is not echoed": (
        camera(password=12345),
        "cameras.porch.password: (hidden) is not accepted; expected text in quotes",
    ),
    "out-of-range quality": (
        camera(quality=150),
        "cameras.porch.quality: 150 is out of range (must be at most 100)",
    ),
    "unknown camera type": (
        camera(type="webcam"),
        "cameras.porch.type: 'webcam' is not accepted; "
        "expected 'http', 'mjpeg', 'rtsp', 'picamera', 'gphoto2' or 'synthetic'",
    ),
    "missing required field": (
        {"cameras": {"porch": {"name": "Porch", "url": "http://cam.local/a.jpg"}}},
        "cameras.porch.output_dir: is required",
    ),
    "not a boolean": (
        camera(enabled="yes please"),
        "cameras.porch.enabled: 'yes please' is not accepted; expected true or false",
    ),
    "camera id that is a path": (
        {"cameras": {"a/b": CAMERA}},
        "cameras: id 'a/b' is not accepted: ids are used in folder names and URLs, so no '/', "
        "'\\', control characters or surrounding spaces",
    ),
    "prefix that is a path": (
        camera(prefix="../x"),
        "cameras.porch.prefix: '../x' must not contain '/' or '\\' (it starts a file name)",
    ),
    "collection of an unknown camera": (
        {**camera(), "collections": {"c": {"name": "C", "path": "c", "camera": "porh"}}},
        "collections.c.camera: no camera 'porh'; did you mean 'porch'? (cameras: porch)",
    ),
    "collection id taken by a camera": (
        {**camera(), "collections": {"porch": {"name": "C", "path": "c"}}},
        "collections.porch: the id 'porch' is camera 'porch''s own collection; "
        "pick another id or set \"camera\": 'porch'",
    ),
    "a long wrong value is shortened": (
        {"cameras": [CAMERA]},
        "cameras: [{'name': 'Porch', 'url': 'http://cam.local/shot.jpg', 'o... is not accepted; "
        "expected an object {...}",
    ),
    "top level not an object": (
        [1, 2],
        "the top level must be a JSON object {...}, not list",
    ),
    "port out of range": (
        {"web": {"port": 70000}},
        "web.port: 70000 is out of range (must be at most 65535)",
    ),
}


def problems_of(path: Path) -> list[str]:
    """The file's error lines, or, when it loads, the lines of its set-aside camera entries."""
    try:
        config = load_config(path)
    except ConfigError as exc:
        return str(exc).splitlines()
    return [f"{path}: {p}" for entry in config.invalid_cameras.values() for p in entry.problems]


@pytest.mark.parametrize("case", list(BAD), ids=list(BAD))
def test_bad_input_is_reported_with_an_exact_message(tmp_path: Path, case: str) -> None:
    data, expected = BAD[case]
    path = write(tmp_path, data)
    assert problems_of(path) == [f"{path}: {expected}"]


@pytest.mark.parametrize(
    "case", [c for c in BAD if BAD[c][1].startswith("cameras.porch")], ids=str
)
def test_a_bad_camera_entry_is_set_aside_and_the_file_loads(tmp_path: Path, case: str) -> None:
    data, _expected = BAD[case]
    good = {**CAMERA, "name": "Yard"}
    path = write(tmp_path, {"cameras": {**data["cameras"], "yard": good}})
    config = load_config(path)
    assert list(config.cameras) == ["yard"]
    assert list(config.invalid_cameras) == ["porch"]
    assert config.invalid_cameras["porch"].raw == data["cameras"]["porch"]


def test_malformed_json_gives_line_and_column(tmp_path: Path) -> None:
    path = write(tmp_path, text='{\n  "cameras": {\n    "porch": {"name": "x",}\n  }\n}\n')
    assert error_of(path) == (
        f"{path}: line 3, column 27: "
        "invalid JSON: Expecting property name enclosed in double quotes"
    )


def test_empty_file(tmp_path: Path) -> None:
    path = write(tmp_path, text="")
    assert error_of(path) == f"{path}: line 1, column 1: invalid JSON: Expecting value"


def test_duplicate_json_key_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path, text='{"cameras": {}, "cameras": {}}')
    assert error_of(path) == (
        f"{path}: key 'cameras' appears twice in one object; JSON would silently keep only the last"
    )


def test_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "nope.json"
    assert error_of(path) == (
        f"{path}: no such config file (copy capture_config.example.json to start)"
    )


def test_a_folder_is_not_a_config(tmp_path: Path) -> None:
    assert error_of(tmp_path) == f"{tmp_path}: is a folder, not a config file"


def test_every_problem_is_listed_each_on_a_line_starting_with_the_path(tmp_path: Path) -> None:
    path = write(tmp_path, {**camera(quality=0, timezone="Mars/Base"), "max_retries": -1})
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    lines = str(caught.value).splitlines()
    assert len(lines) == 3 == len(caught.value.problems)
    assert all(line.startswith(f"{path}: ") for line in lines)
    assert f"{path}: max_retries: -1 is out of range (must be at least 0)" in lines


# --- pyLapse 0.2 files --------------------------------------------------------------------------

LEGACY = {
    "cameras": {
        "camera_1": {
            "name": "Camera 1",
            "url": "http://192.168.1.100:8080/photo.jpg",
            "output_dir": "/srv/timelapse/camera1",
            "prefix": "Camera1 ",
            "schedules": [
                {"id": "cam1_day", "hour": "6-20", "minute": "*"},
                {"id": "cam1_night", "hour": "21-24,0-5", "minute": "*/15"},
            ],
        },
        "garden": {
            "name": "Garden",
            "description": "south fence",
            "enabled": False,
            "url": "https://garden.local/snapshot.jpg",
            "output_dir": "garden",
            "prefix": "garden-",
            "filename_format": "{prefix}{timestamp:%Y-%m-%dT%H-%M-%S}{tz_offset}.{ext}",
            "ext": "png",
            "quality": 85,
            "resize": True,
            "resize_width": 1280,
            "resize_height": 720,
            "timezone": "Asia/Tokyo",
            "schedules": [
                {"id": "sched_0", "type": "cron", "enabled": True, "hour": "*", "minute": "*",
                 "second": "", "day": "*", "week": "*", "month": "*", "year": "*",
                 "day_of_week": "mon-fri"},
                {"id": "sched_1", "type": "interval", "enabled": False, "hour": "*",
                 "minute": "*", "second": "0", "interval_amount": 5, "interval_unit": "minutes",
                 "start_date": "2024-01-15T08:00"},
                {"id": "sched_2", "type": "interval", "interval_amount": 30,
                 "interval_unit": "seconds", "start_date": ""},
            ],
        },
        "nameless": {
            "url": "http://10.0.0.9/shot.jpg",
            "output_dir": "nameless",
            "resize": True,
            "schedules": [{"hour": 12, "minute": 0}, {"type": "interval", "interval_amount": 1,
                                                       "interval_unit": "hour"}],
        },
    },
    "ffmpeg_path": "bin/ffmpeg",
    "max_retries": 2,
    "retry_delay": 5,
}  # fmt: skip


def test_a_pylapse_0_2_config_loads_and_means_the_same(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, LEGACY))
    cam1 = config.cameras["camera_1"]
    assert (cam1.name, cam1.type, cam1.url) == (
        "Camera 1",
        "http",
        LEGACY["cameras"]["camera_1"]["url"],
    )
    assert cam1.prefix == "Camera1 " and cam1.enabled
    assert [s.cron_fields() for s in cam1.schedules] == [
        {"hour": "6-20", "minute": "*"},
        {"hour": "21-23,0-5", "minute": "*/15"},  # 0.2's scheduler refused hour 24
    ]
    assert config.warnings == [
        "cameras.camera_1.schedules.1.hour: '21-24,0-5' read as '21-23,0-5' (hours run 0-23)",
        config_module.LEGACY_LAYOUT_NOTE,
    ]
    assert config.layout == "flat"  # 0.2 saved frames straight into output_dir
    garden = config.cameras["garden"]
    assert not garden.enabled and garden.description == "south fence"
    assert (garden.ext, garden.quality, garden.resize_box()) == ("png", 85, (1280, 720))
    assert str(garden.zone()) == "Asia/Tokyo"
    cron, interval, fast = garden.schedules
    assert cron.cron_fields() == {
        "day": "*", "week": "*", "month": "*", "year": "*", "day_of_week": "mon-fri",
        "hour": "*", "minute": "*",
    }  # fmt: skip
    assert cron.second is None  # "" meant "not set"
    assert (interval.type, interval.enabled, interval.interval_amount) == ("interval", False, 5)
    assert (
        interval.start_date is not None and interval.start_date.isoformat() == "2024-01-15T08:00:00"
    )
    assert (fast.interval_unit, fast.start_date) == ("seconds", None)
    nameless = config.cameras["nameless"]
    assert nameless.name == "nameless"  # 0.2 showed the id
    assert [s.id for s in nameless.schedules] == ["schedule_0", "schedule_1"]
    assert nameless.schedules[1].interval_unit == "hours"
    assert nameless.resize_box() == (1920, 1080)  # 0.2's default box
    assert (config.ffmpeg_path, config.max_retries, config.retry_delay) == ("bin/ffmpeg", 2, 5.0)


def test_0_2_defaults_apply_when_keys_are_absent(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, {"cameras": {}}))
    assert (config.max_retries, config.retry_delay) == (2, 5.0)  # as pyLapse 0.2
    assert config.storage_roots == ["timelapse"] and config.data_dir == "data"


def test_disabled_camera_may_lack_a_url(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, camera(url="", enabled=False)))
    assert config.cameras["porch"].url is None


# --- paths, zones, collections ------------------------------------------------------------------


def test_relative_paths_resolve_against_the_config_folder(tmp_path: Path) -> None:
    config = load_config(
        write(tmp_path, {**camera(), "data_dir": "state", "storage_roots": ["a", "/b"]})
    )
    assert config.source == (tmp_path / "capture_config.json").resolve()
    assert config.data_path == tmp_path.resolve() / "state"
    assert config.root_paths == [tmp_path.resolve() / "a", Path("/b")]
    assert config.resolve("timelapse/porch") == tmp_path.resolve() / "timelapse/porch"


def test_camera_zone_defaults_to_the_local_zone(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, camera()))
    assert config.cameras["porch"].zone() is not None
    assert config.cameras["porch"].timezone is None


def test_all_collections_adds_one_per_camera(tmp_path: Path) -> None:
    data = {
        "cameras": {"porch": CAMERA, "yard": {**CAMERA, "name": "Yard", "output_dir": "y"}},
        "collections": {
            "archive": {"name": "Archive", "path": "old", "timezone": "Europe/Berlin"},
            "yard_all": {"name": "Yard all", "path": "y", "camera": "yard"},
        },
    }
    config = load_config(write(tmp_path, data))
    found = config.all_collections()
    assert sorted(found) == ["archive", "porch", "yard_all"]
    assert found["porch"].camera == "porch" and found["porch"].path == "timelapse/porch"
    assert found["porch"].name == "Porch"


def test_collection_date_source_accepts_0_2_spelling(tmp_path: Path) -> None:
    data = {"collections": {"c": {"name": "C", "path": "c", "date_source": "created"}}}
    assert load_config(write(tmp_path, data)).collections["c"].date_source == "mtime"


# --- saving -------------------------------------------------------------------------------------

COMMENTED = """{
  "_comment": "first line of the file",
  "cameras": {
    "porch": {
      "name": "Porch",
      "_note": "the old Axis on the porch",
      "url": "http://cam.local/shot.jpg",
      "output_dir": "timelapse/porch",
      "schedules": [
        {"id": "day", "_why": "daylight only", "hour": "6-20", "minute": "*/5"}
      ]
    }
  },
  "max_retries": 4,
  "_examples": {"rtsp": {"type": "rtsp", "url": "rtsp://cam/stream"}}
}
"""


def test_comments_survive_a_load_save_round_trip_in_place(tmp_path: Path) -> None:
    path = write(tmp_path, text=COMMENTED)
    save_config(load_config(path))
    saved = path.read_text(encoding="utf-8")
    # a 0.2-shaped file gains the layout it was read with (flat), and nothing else
    assert json.loads(saved) == {**json.loads(COMMENTED), "layout": "flat"}
    assert list(json.loads(saved)) == ["_comment", "cameras", "max_retries", "layout", "_examples"]
    assert list(json.loads(saved)["cameras"]["porch"])[:3] == ["name", "_note", "url"]
    assert list(json.loads(saved)["cameras"]["porch"]["schedules"][0])[:2] == ["id", "_why"]


def test_save_writes_edits_and_keeps_the_previous_file_as_bak(tmp_path: Path) -> None:
    path = write(tmp_path, text=COMMENTED)
    config = load_config(path)
    config.cameras["porch"].description = "renamed"
    config.web.password_hash = "$argon2id$stub"  # a section absent from the file
    save_config(config)
    [bak] = backups(path)
    assert bak.read_text(encoding="utf-8") == COMMENTED
    again = load_config(path)
    assert again.cameras["porch"].description == "renamed"
    assert again.web.password_hash == "$argon2id$stub"
    assert again.max_retries == 4
    assert "timeout" not in path.read_text(encoding="utf-8")  # defaults are not written out


def test_a_new_camera_added_in_code_is_saved(tmp_path: Path) -> None:
    path = write(tmp_path, camera())
    config = load_config(path)
    config.cameras["yard"] = CameraConfig(name="Yard", type="synthetic", output_dir="yard")
    save_config(config)
    assert load_config(path).cameras["yard"].type == "synthetic"


def test_save_refuses_a_config_that_would_not_load_back(tmp_path: Path) -> None:
    path = write(tmp_path, camera())
    config = load_config(path)
    config.cameras["porch"].type = "rtsp"  # the http:// url is now wrong
    before = path.read_bytes()
    with pytest.raises(ConfigError, match=r"cameras\.porch\.url: 'http://cam\.local/shot\.jpg' "
                                          r"must start with rtsp:// or rtsps://"):  # fmt: skip
        save_config(config)
    assert path.read_bytes() == before


def test_a_crash_between_write_and_rename_leaves_the_old_file_intact(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write(tmp_path, text=COMMENTED)
    config = load_config(path)
    config.max_retries = 9
    real_replace = os.replace

    def crash(src, dst, *args, **kwargs):
        if Path(dst) == path:
            raise OSError("simulated power cut before the rename")
        return real_replace(src, dst, *args, **kwargs)

    monkeypatch.setattr(config_module.storage.files.os, "replace", crash)  # what place_file calls
    with pytest.raises(OSError, match="simulated power cut"):
        save_config(config)
    monkeypatch.undo()
    assert path.read_text(encoding="utf-8") == COMMENTED
    assert load_config(path).max_retries == 4
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")] == []


def test_save_without_a_path_needs_a_loaded_config() -> None:
    with pytest.raises(ConfigError, match="no path given"):
        save_config(Config())


def test_parse_config_names_a_default_source() -> None:
    with pytest.raises(ConfigError) as caught:
        parse_config("not an object")
    assert str(caught.value) == "config: the top level must be a JSON object {...}, not str"


# --- the example shipped with the project ------------------------------------------------------


def test_the_example_config_is_valid(repo: Path) -> None:
    config = load_config(repo / "capture_config.example.json")
    assert config.storage_roots == ["timelapse"] and config.data_dir == "data"
    # said in the file, so the copy start_ui.sh makes keeps day folders whatever is added later
    assert "layout" in config.model_fields_set and config.layout == "day_folders"
    demo = [c for c in config.cameras.values() if c.type == "synthetic"]
    assert len(demo) == 1 and demo[0].enabled
    assert demo[0].output_dir.startswith("timelapse/")
    assert demo[0].latitude is not None and demo[0].longitude is not None
    (schedule,) = demo[0].schedules
    assert (schedule.type, schedule.interval_amount, schedule.interval_unit) == (
        "interval",
        10,
        "seconds",
    )
    assert config.warnings == []


def test_the_example_shows_every_other_camera_kind_and_each_is_valid(repo: Path) -> None:
    raw = json.loads((repo / "capture_config.example.json").read_text(encoding="utf-8"))
    examples = {k: v for k, v in raw["_examples"].items() if not k.startswith("_")}
    kinds = sorted(e["type"] for e in examples.values())
    assert kinds == ["gphoto2", "http", "mjpeg", "picamera", "rtsp"]
    assert examples["phone_ipwebcam"]["url"].endswith("/shot.jpg")
    assert examples["phone_ipwebcam"]["username"]
    moved = {"cameras": examples, "storage_roots": raw["storage_roots"]}
    config = parse_config(json.loads(json.dumps(moved)), "moved examples")
    assert sorted(c.type for c in config.cameras.values()) == kinds


def test_describe_error_serves_forms_validating_one_model() -> None:
    from pydantic import ValidationError

    from pylapse.config.messages import describe_error

    with pytest.raises(ValidationError) as caught:
        CameraConfig.model_validate({**CAMERA, "prefx": "a", "password": ["x"]})
    messages = [describe_error(e, CameraConfig) for e in caught.value.errors()]
    assert messages == [
        "password: (hidden) is not accepted; expected text in quotes",
        "prefx: unknown key 'prefx'; did you mean 'prefix'?",
    ]


@pytest.mark.parametrize(
    "text",
    [
        "[" * 100_000 + "]" * 100_000,  # too deep for the JSON parser
        '{"_note": ' + "[" * 900 + "]" * 900 + "}",  # parsed, but copying or saving it recurses
        '{"cameras": {"a": {"name": "a", "output_dir": "x", "_x": ' + '{"k": ' * 200 + "1"
        + "}" * 200 + "}}}",
    ],
)  # fmt: skip
def test_a_config_nested_absurdly_deep_is_a_clear_error(tmp_path, text: str) -> None:
    path = tmp_path / "capture_config.json"
    path.write_text(text)
    with pytest.raises(ConfigError, match="nested") as caught:
        load_config(path)
    assert str(path) in str(caught.value)


# --- a bad camera entry does not stop the others ---------------------------------------------

BROKEN_ENTRY = """{
  "_comment": "two cameras, one with typos",
  "cameras": {
    "porch": {"name": "Porch", "url": "http://cam.local/shot.jpg", "output_dir": "p",
              "schedules": [{"id": "day", "minute": "*/5"}]},
    "_about_shed": "the shed camera, half configured",
    "shed": {"_why": "waiting for its new URL", "url": "ftp://shed.local", "output_dir": "s",
             "qualty": 80, "schedules": [{"minute": "61"}]},
    "yard": {"name": "Yard", "type": "synthetic", "output_dir": "y"}
  },
  "collections": {"shed-archive": {"name": "Shed", "path": "s", "camera": "shed"}}
}
"""


def test_a_bad_entry_is_reported_with_every_problem(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, text=BROKEN_ENTRY))
    assert list(config.cameras) == ["porch", "yard"]
    shed = config.invalid_cameras["shed"]
    assert sorted(shed.problems) == [
        "cameras.shed.qualty: unknown key 'qualty'; did you mean 'quality'?",
        "cameras.shed.schedules.0.minute: '61' is not a valid cron minute field: "
        "the last value (61) is higher than the maximum value (59)",
        "cameras.shed.url: 'ftp://shed.local' must start with http:// or https://",
    ]
    assert "shed-archive" in config.collections  # its collection is not a second error


def test_saving_writes_the_bad_entry_back_unchanged_in_its_place(tmp_path: Path) -> None:
    path = write(tmp_path, text=BROKEN_ENTRY)
    config = load_config(path)
    config.cameras["porch"].name = "Front porch"
    del config.cameras["yard"]
    config.cameras["gate"] = CameraConfig(name="Gate", type="synthetic", output_dir="g")
    save_config(config)
    before, after = json.loads(BROKEN_ENTRY), json.loads(path.read_text(encoding="utf-8"))
    assert after["cameras"]["shed"] == before["cameras"]["shed"]  # its comment included
    assert list(after["cameras"]) == ["porch", "_about_shed", "shed", "gate"]
    assert after["cameras"]["porch"]["name"] == "Front porch"
    again = load_config(path)
    assert list(again.invalid_cameras) == ["shed"] and list(again.cameras) == ["porch", "gate"]


def test_a_camera_under_the_id_of_a_bad_entry_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path, text=BROKEN_ENTRY)
    config = load_config(path)
    config.cameras["shed"] = CameraConfig(name="Shed", url="http://shed.local/shot.jpg",
                                          output_dir="s")  # fmt: skip
    with pytest.raises(ConfigError, match=r"cameras\.shed: the file holds an invalid entry"):
        save_config(config)
    assert path.read_text(encoding="utf-8") == BROKEN_ENTRY


def test_a_camera_made_invalid_in_code_is_not_saved_even_beside_a_bad_entry(
    tmp_path: Path,
) -> None:
    path = write(tmp_path, text=BROKEN_ENTRY)
    config = load_config(path)
    config.cameras["porch"].type = "rtsp"
    with pytest.raises(ConfigError, match=r"cameras\.porch\.url: .* must start with rtsp://"):
        save_config(config)
    assert path.read_text(encoding="utf-8") == BROKEN_ENTRY


def test_a_file_error_lists_the_bad_entries_too(tmp_path: Path) -> None:
    raw = json.loads(BROKEN_ENTRY)
    path = write(tmp_path, {**raw, "max_retries": -1})
    lines = error_of(path).splitlines()
    assert lines[0] == f"{path}: max_retries: -1 is out of range (must be at least 0)"
    assert f"{path}: cameras.shed.qualty: unknown key 'qualty'; did you mean 'quality'?" in lines


# --- layout and ignore ---------------------------------------------------------------------------


def test_only_a_0_2_file_without_a_layout_reads_flat(tmp_path: Path) -> None:
    legacy = load_config(write(tmp_path, LEGACY))
    assert {c: legacy.camera_layout(c) for c in legacy.cameras} == dict.fromkeys(
        legacy.cameras, "flat"
    )
    assert legacy.cameras["camera_1"].day_format(legacy.layout) == ""
    for new in (  # a key 0.2 never had, anywhere, makes it a new file: a folder per day
        {**LEGACY, "data_dir": "data"},
        {"cameras": {"c": {**LEGACY["cameras"]["camera_1"], "type": "http"}}},
        {**LEGACY, "layout": "day_folders"},
        {"cameras": {}},
    ):
        config = load_config(write(tmp_path, new))
        assert config.layout == "day_folders", new
        assert config_module.LEGACY_LAYOUT_NOTE not in config.warnings
    own = load_config(write(tmp_path, {**LEGACY, "layout": "day_folders"}))
    own.cameras["camera_1"].layout = "flat"  # a camera's own layout wins
    assert own.camera_layout("camera_1") == "flat"
    assert own.camera_layout("garden") == "day_folders"


def test_the_0_2_layout_is_written_on_the_first_save_so_later_keys_keep_it(tmp_path: Path) -> None:
    path = write(tmp_path, LEGACY)
    config = load_config(path)
    config.web.password_hash = "$argon2id$stub"  # what `pylapse set-password` adds
    save_config(config)
    assert json.loads(path.read_text(encoding="utf-8"))["layout"] == "flat"
    again = load_config(path)
    assert again.layout == "flat" and config_module.LEGACY_LAYOUT_NOTE not in again.warnings


def test_ignore_defaults_to_rejected_and_reaches_the_cameras_collection(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, camera()))
    assert config.cameras["porch"].ignore == ["rejected/"]
    config = load_config(write(tmp_path, camera(ignore=["rejected/", " Full/ ", "*_thumb.jpg"])))
    assert config.all_collections()["porch"].ignore == ["rejected/", "Full/", "*_thumb.jpg"]
    for bad, reason in [("/abs/", "must be relative"), ("a/../up", "without '..'"),
                        ("  ", "is not a pattern")]:  # fmt: skip
        with pytest.raises(ValueError, match=reason):
            CameraConfig(name="P", output_dir="p", enabled=False, ignore=[bad])


@pytest.mark.parametrize(
    "template",
    ["{prefix}{timestamp:%Y%m%d_%H%M%S}.{ext}", "{prefix}{timestamp:%Y-%m-%d_%H-%M-%S}_{tz}.{ext}"],
)
def test_a_filename_format_without_an_offset_is_refused_unless_the_risk_is_accepted(
    tmp_path: Path, template: str
) -> None:
    path = write(tmp_path, camera(filename_format=template))
    [message] = problems_of(path)
    assert message.startswith(
        f"{path}: cameras.porch.filename_format: {template!r} makes names without a"
    )
    assert list(load_config(path).invalid_cameras) == ["porch"]  # set aside, never captured with
    assert "UTC offset" in message and "{tz_offset}" in message and "%z" in message
    assert '"allow_ambiguous_names": true' in message
    accepted = load_config(write(tmp_path, camera(filename_format=template,
                                                  allow_ambiguous_names=True)))  # fmt: skip
    assert accepted.cameras["porch"].filename_format == template


@pytest.mark.parametrize(
    "template",
    [
        "{prefix}{timestamp:%Y-%m-%dT%H-%M-%S}{tz_offset}.{ext}",
        "{prefix}{timestamp:%Y%m%d_%H%M%S%z}.{ext}",
        "{camera}_{timestamp:%Y%m%d_%H%M%S}{tz_offset}_{tz}.{ext}",
    ],
)
def test_a_filename_format_with_an_offset_needs_no_flag(tmp_path: Path, template: str) -> None:
    config = load_config(write(tmp_path, camera(filename_format=template)))
    assert config.cameras["porch"].allow_ambiguous_names is False


def test_an_interval_may_be_a_fraction_of_a_second_down_to_a_tenth() -> None:
    half = Schedule(id="h", type="interval", interval_amount=0.5, interval_unit="seconds")
    assert half.interval_seconds() == 0.5
    whole = Schedule(id="w", type="interval", interval_amount=5, interval_unit="minutes")
    assert whole.interval_amount == 5 and isinstance(whole.interval_amount, int)  # saved as 5
    assert whole.interval_seconds() == 300
    with pytest.raises(ValueError, match=r"'z': an interval of 0\.05 seconds is shorter than 0\.1"):
        Schedule(id="z", type="interval", interval_amount=0.05, interval_unit="seconds")


def test_a_presets_paths_are_resolved_against_the_config_files_folder(tmp_path: Path) -> None:
    path = tmp_path / "conf" / "capture_config.json"
    path.parent.mkdir()
    path.write_text(json.dumps({
        "cameras": {"porch": CAMERA},
        "storage_roots": [str(tmp_path / "frames")],
        "exports": {
            "own": {"collection": "porch", "output_dir": "out", "subdir": "day",
                    "watermark_image": "marks/logo.png", "font": "fonts/Sans.ttf"},
            "default": {"collection": "porch", "font": "DejaVu Sans"},
        },
    }))  # fmt: skip
    config = load_config(path)
    own = config.resolved_preset("own")
    assert own.output_dir == str(path.parent / "out") and own.subdir == "day"
    assert own.watermark_image == str(path.parent / "marks" / "logo.png")
    assert own.font == str(path.parent / "fonts" / "Sans.ttf")
    # no folder of its own: its default one (without the subdir); a font name stays a name
    default = config.resolved_preset("default")
    assert default.output_dir == str(tmp_path / "frames" / "exports" / "default")
    assert default.font == "DejaVu Sans"
    assert config.exports["own"].output_dir == "out"  # the saved preset is left as written
