"""pylapse.tasks.import_v02: pyLapse 0.2's collections.json and history.json, written here the
way 0.2's dashboard stores wrote them, imported into a real config file and job history."""

from __future__ import annotations

import json
import logging
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from pylapse.config.backups import backups
from pylapse.config.base import ConfigConflict
from pylapse.config.file import load_config, save_config
from pylapse.jobs.record import JobState
from pylapse.jobs.runner import JobRunner
from pylapse.tasks.import_v02 import (
    MARKER_FILE,
    ImportV02Error,
    Outcome,
    import_v02,
)

# -- 0.2's files, shaped as its stores and routes wrote them ---------------------------------------


def v02_export(name: str, input_dir: str, output_dir: str, **changes: Any) -> dict[str, Any]:
    """An export config as 0.2's export form saved it (every field of its form)."""
    data: dict[str, Any] = {
        "name": name, "input_dir": input_dir, "output_dir": output_dir,
        "date_source": "filename",
        "schedules": [{"enabled": True, "hour": "12", "minute": "0", "second": "0"}],
        "resize": False, "keep_aspect": True, "resolution_w": 1920, "resolution_h": 1080,
        "quality": 50, "optimize": False, "drawtimestamp": False,
        "timestampformat": "%Y-%m-%d %I:%M:%S %p", "timestampfont": "", "timestampfontsize": 36,
        "ts_r": 255, "ts_g": 255, "ts_b": 255, "ts_x": 0, "ts_y": 0, "prefix": "",
        "zeropadding": 5, "workers": 0, "create_video": False, "video_fps": 24,
        "video_pattern": "*.jpg", "video_codec": "libx264", "video_output": "",
        "date_from": "", "date_to": "",
    }  # fmt: skip
    data.update(changes)
    return data


def write_v02(folder: Path, root: Path) -> dict[str, Any]:
    """0.2's two files in ``folder`` for frames under ``root``: a camera's collection (saved by
    its camera page, id = camera id, a relative path as the camera had it) with a noon export,
    a collection saved on the Collections page with two schedules and a broken third, and a
    history of two export runs and the video of the newer one."""
    porch_out = str(root / "exports" / "porch-noon")
    collections = {
        "porch": {
            "name": "Porch", "path": "timelapse/porch", "date_source": "filename", "ext": "jpg",
            "timezone": "Europe/Berlin",
            "exports": {
                "a1b2c3d4": v02_export(
                    "Porch noon", "timelapse/porch", porch_out, resize=True, resolution_w=1280,
                    resolution_h=720, quality=80, drawtimestamp=True, timestampfontsize=36,
                    ts_r=255, ts_g=200, ts_b=0, ts_x=20, ts_y=10, prefix="noon",
                    create_video=True, display_tz="UTC",
                ),
            },
        },
        "9f8e7d6c": {
            "name": "Garden", "path": str(root / "garden"), "date_source": "created",
            "export_dir": "", "ext": "png", "timezone": "America/New_York",
            "exports": {
                "11aa22bb": v02_export(
                    "Garden twice a day", str(root / "garden"), str(root / "exports" / "garden"),
                    schedules=[
                        {"enabled": True, "hour": "6", "minute": "0", "second": "0"},
                        {"enabled": True, "hour": "18", "minute": "0", "second": "0"},
                        {"enabled": False, "hour": "3", "minute": "30", "second": "0"},
                    ],
                ),
                "33cc44dd": v02_export(
                    "Elsewhere", str(root / "not-a-collection"), str(root / "exports" / "x")
                ),
                "55ee66ff": v02_export(
                    "Off", str(root / "garden"), str(root / "exports" / "off"),
                    schedules=[{"enabled": False, "hour": "1", "minute": "0", "second": "0"}],
                ),
            },
        },
        "deadbeef": {"name": "No folder", "date_source": "filename"},
    }  # fmt: skip
    # HistoryStore.add_* insert at the front: newest first
    history = {
        "exports": [
            {"name": "Porch noon", "input_dir": "timelapse/porch", "output_dir": porch_out,
             "date_source": "filename", "schedules": 1, "image_count": 42,
             "id": "e0000002", "created_at": "2025-06-02T12:05:00.123456"},
            {"name": "Porch noon", "input_dir": "timelapse/porch", "output_dir": porch_out,
             "date_source": "filename", "schedules": 1, "image_count": 40,
             "id": "e0000001", "created_at": "2025-06-01T12:05:00"},
        ],
        "videos": [
            {"name": "Porch noon", "input_dir": porch_out, "output_path": porch_out + ".mp4",
             "fps": 24, "codec": "libx264", "file_size": 12345,
             "id": "v0000001", "created_at": "2025-06-02T12:06:30"},
        ],
    }  # fmt: skip
    (folder / "collections.json").write_text(json.dumps(collections, indent=2))
    (folder / "history.json").write_text(json.dumps(history, indent=2))
    return {"collections": collections, "history": history}


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A config carrying 0.2's camera "porch", a comment, and 0.2's files beside it."""
    root = tmp_path / "timelapse"
    for sub in ("porch", "garden", "exports"):
        (root / sub).mkdir(parents=True)
    raw = {
        "_comment": "pyLapse 0.2 config, comments stay",
        "cameras": {
            "porch": {"name": "Porch", "url": "http://127.0.0.1:9/shot.jpg",
                      "output_dir": "timelapse/porch", "timezone": "Europe/Berlin",
                      "schedules": [{"hour": "*", "minute": "*/10"}]},
        },
        "storage_roots": ["timelapse"],
        "data_dir": "data",
    }  # fmt: skip
    (tmp_path / "capture_config.json").write_text(json.dumps(raw, indent=2))
    write_v02(tmp_path, root)
    return tmp_path


def run_import(project: Path, path: Path | None = None, **kwargs: Any):
    config = load_config(project / "capture_config.json")
    stamp = config._stamp
    return import_v02(
        path or project,
        config,
        project / "data" / "pylapse.db",
        save=lambda c: save_config(c, expect=stamp),
        **kwargs,
    )


def jobs_of(project: Path, kind: str | None = None):
    runner = JobRunner(project / "data" / "pylapse.db")
    runner.start()
    try:
        return runner.list(100, kind=kind)
    finally:
        runner.shutdown()


def outcomes(report, what: str) -> dict[str, tuple[Outcome, str, str]]:
    return {i.name: (i.outcome, i.target, i.note) for i in report.items if i.what == what}


# -- the import ----------------------------------------------------------------------------------


def test_collections_become_collections_and_their_exports_presets(project: Path) -> None:
    report = run_import(project)
    config = load_config(project / "capture_config.json")

    colls = outcomes(report, "collection")
    # 0.2 made a collection for each camera's folder: that is the camera's own collection here
    assert colls["Porch"][:2] == (Outcome.PRESENT, "porch")
    assert set(config.collections) == {"garden"}
    garden = config.collections["garden"]
    assert garden.name == "Garden"
    assert garden.path == "timelapse/garden"  # absolute in 0.2, relative to the config here
    assert garden.timezone == "America/New_York"
    assert garden.date_source == "mtime"  # 0.2's "created" is the file time
    assert garden.extensions == [".png"]
    assert colls["No folder"][0] is Outcome.SKIPPED and "path" in colls["No folder"][2]

    noon = config.exports["porch-noon"]
    assert (noon.collection, noon.hour, noon.minute, noon.second) == ("porch", "12", "0", "0")
    assert (noon.width, noon.height, noon.resize_mode) == (1280, 720, "fit")
    assert (noon.quality, noon.prefix, noon.ext) == (80, "noon", "jpg")
    assert noon.drawtimestamp and noon.timestamp_format == "%Y-%m-%d %I:%M:%S %p"
    assert (noon.anchor, noon.offset_x, noon.offset_y, noon.margin) == ("top-left", 20, 10, 0)
    assert noon.backdrop == "none" and noon.font_color == "#ffc800"
    assert noon.font_size == pytest.approx(36 / 720)  # 36 px on 720 px high frames
    assert noon.display_timezone == "UTC"
    assert noon.output_dir == "timelapse/exports/porch-noon"
    assert config.export_folder("porch-noon") == project / "timelapse" / "exports" / "porch-noon"

    # hour 6 and hour 18 at :00 are one rule; the disabled schedule is left out
    twice = config.exports["garden-twice-a-day"]
    assert (twice.collection, twice.hour, twice.minute) == ("garden", "6,18", "0")
    assert twice.quality == 50 and twice.width is None  # 0.2's defaults, not ours

    presets = outcomes(report, "export preset")
    assert presets["Elsewhere"][0] is Outcome.SKIPPED
    assert "not the folder of any collection" in presets["Elsewhere"][2]
    assert presets["Off"][0] is Outcome.SKIPPED and "disabled" in presets["Off"][2]
    assert set(config.exports) == {"porch-noon", "garden-twice-a-day"}


def test_the_config_is_saved_with_its_comments_and_a_backup(project: Path) -> None:
    path = project / "capture_config.json"
    before = path.read_text()
    report = run_import(project)
    assert report.config_saved == path
    assert json.loads(path.read_text())["_comment"] == "pyLapse 0.2 config, comments stay"
    [backup] = backups(path)
    assert backup.read_text() == before


def test_history_becomes_finished_jobs_on_the_exports_and_videos_pages(project: Path) -> None:
    report = run_import(project)
    exports = jobs_of(project, "export")
    assert [j.params["v02_id"] for j in exports] == ["e0000002", "e0000001"]  # newest first
    newest = exports[0]
    assert newest.state is JobState.DONE and newest.percent == 100
    assert newest.title == "Export Porch noon"
    assert newest.params["imported_from"] == "pyLapse 0.2"
    assert newest.params["collection"] == "porch"
    assert newest.result == {
        "output_dir": str(project / "timelapse" / "exports" / "porch-noon"),
        "written": 42,
        "imported_from": "pyLapse 0.2",
    }
    # 0.2 wrote this machine's local time without an offset
    assert newest.finished == datetime(2025, 6, 2, 12, 5, 0, 123456).astimezone()
    [video] = jobs_of(project, "render")
    assert video.state is JobState.DONE and video.title == "Render Porch noon"
    out = str(project / "timelapse" / "exports" / "porch-noon.mp4")
    assert video.result is not None
    assert (video.result["output"], video.result["bytes"], video.result["fps"]) == (out, 12345, 24)
    assert video.result["frames"] == 42  # the export run that made its frames
    assert video.params["output"] == out
    assert outcomes(report, "video")["Porch noon"][1] == f"job #{video.id}"


def test_history_beyond_what_the_job_history_keeps_is_skipped(project: Path, monkeypatch) -> None:
    monkeypatch.setattr("pylapse.tasks.import_v02.plan.HISTORY_KEPT", 2)
    report = run_import(project)
    assert [j.params["v02_id"] for j in jobs_of(project)] == ["v0000001", "e0000002"]
    runs = [i for i in report.items if i.what == "export run"]
    assert [(i.origin, i.outcome) for i in runs] == [
        ("e0000002", Outcome.ADDED), ("e0000001", Outcome.SKIPPED)
    ]
    assert "older than the 2 newest entries" in runs[1].note


def test_entries_without_an_id_are_each_imported_once(project: Path) -> None:
    history = json.loads((project / "history.json").read_text())
    no_id = {"name": "by hand", "input_dir": "", "output_dir": "/x", "image_count": 3,
             "created_at": "2025-01-01T00:00:00"}  # fmt: skip
    other = {**no_id, "image_count": 4}
    history["exports"] += [no_id, dict(no_id), other]  # the very same entry twice, and another
    (project / "history.json").write_text(json.dumps(history))
    run_import(project)
    run_import(project)
    written = [j.result["written"] for j in jobs_of(project, "export") if j.result]
    assert sorted(written) == [3, 4, 40, 42]


def test_importing_again_adds_nothing(project: Path) -> None:
    first = run_import(project)
    assert first.added == 6  # 1 collection, 2 presets, 2 export runs, 1 video
    text = (project / "capture_config.json").read_text()
    jobs = len(jobs_of(project))

    second = run_import(project)
    assert second.added == 0
    assert second.config_saved is None
    assert (project / "capture_config.json").read_text() == text
    assert len(backups(project / "capture_config.json")) == 1  # no second save
    assert len(jobs_of(project)) == jobs
    assert {i.outcome for i in second.items} == {Outcome.PRESENT, Outcome.SKIPPED}
    assert second.count("collection", Outcome.PRESENT) == 2
    assert second.count("export preset", Outcome.PRESENT) == 2
    assert second.count("export run", Outcome.PRESENT) == 2
    assert "nothing" not in second.summary and "2 export runs (2 already there)" in second.summary


def test_a_name_taken_by_something_else_gets_a_suffix(project: Path) -> None:
    config_path = project / "capture_config.json"
    raw = json.loads(config_path.read_text())
    (project / "timelapse" / "old-garden").mkdir()
    raw["collections"] = {"garden": {"name": "Garden", "path": "timelapse/old-garden"}}
    raw["exports"] = {"porch-noon": {"collection": "porch", "hour": 13}}
    config_path.write_text(json.dumps(raw))

    report = run_import(project)
    config = load_config(config_path)
    assert config.collections["garden"].path == "timelapse/old-garden"  # untouched
    assert config.collections["garden-2"].name == "Garden 2"
    assert config.collections["garden-2"].path == "timelapse/garden"
    outcome, target, note = outcomes(report, "collection")["Garden"]
    assert (outcome, target) == (Outcome.ADDED, "garden-2")
    assert "taken by 'garden'" in note
    assert config.exports["garden-twice-a-day"].collection == "garden-2"
    assert config.exports["porch-noon"].hour == 13
    assert config.exports["porch-noon-2"].hour == "12"
    assert "exists with other settings" in outcomes(report, "export preset")["Porch noon"][2]
    assert any("as 'garden-2'" in line and "Garden 2" in line for line in report.lines())


def test_a_broken_file_names_itself_and_changes_nothing(project: Path) -> None:
    config_path = project / "capture_config.json"
    before = config_path.read_text()
    (project / "history.json").write_text('{"exports": [ {"id": "x"}, ]}')
    with pytest.raises(ImportV02Error) as caught:
        run_import(project)
    message = str(caught.value)
    assert message.startswith(f"{project / 'history.json'}: line 1, column ")
    assert "invalid JSON" in message
    assert config_path.read_text() == before  # the collections were not taken either
    assert not (project / "data" / "pylapse.db").exists()

    (project / "history.json").write_text('{"exports": {"id": "x"}}')
    with pytest.raises(ImportV02Error, match=r"history\.json: 'exports' must be a list"):
        run_import(project)
    (project / "collections.json").write_text("[1, 2]")
    with pytest.raises(ImportV02Error, match=r"collections\.json: the top level must be an obj"):
        run_import(project)
    assert config_path.read_text() == before


def test_a_dry_run_reports_and_writes_nothing(project: Path) -> None:
    config_path = project / "capture_config.json"
    before = config_path.read_text()
    report = run_import(project, dry_run=True)
    assert report.dry_run and report.added == 6 and report.config_saved is None
    assert report.lines()[0].startswith("pyLapse 0.2 data (dry run, nothing written) in ")
    assert any(line.startswith("  would add collection 'Garden'") for line in report.lines())
    assert config_path.read_text() == before
    assert not (project / "data").exists()


def test_one_file_alone_is_imported(project: Path) -> None:
    report = run_import(project, project / "history.json")
    assert report.files == [project / "history.json"]
    assert report.count("collection") == 0 and report.count("export run") == 2
    assert "collections" not in json.loads((project / "capture_config.json").read_text())


def test_a_config_changed_meanwhile_is_not_overwritten(project: Path) -> None:
    config_path = project / "capture_config.json"
    config = load_config(config_path)
    stamp = config._stamp
    config_path.write_text(config_path.read_text().replace("*/10", "*/5"))  # a hand edit
    with pytest.raises(ConfigConflict):
        import_v02(project, config, project / "data" / "pylapse.db",
                   save=lambda c: save_config(c, expect=stamp))  # fmt: skip
    assert "*/5" in config_path.read_text()
    assert not (project / "data" / "pylapse.db").exists()  # no history without the config


# -- on first start ------------------------------------------------------------------------------


def test_the_first_start_imports_the_files_beside_the_config_once(project: Path, caplog) -> None:
    pytest.importorskip("pylapse.index.store")
    from pylapse.runtime import Runtime

    caplog.set_level(logging.INFO, logger="pylapse.tasks.import_v02")
    with Runtime(load_config(project / "capture_config.json"), scheduler=False) as runtime:
        assert "garden" in runtime.config.collections  # in effect at once
        assert runtime.jobs is not None and runtime.jobs.count("export") == 2
    assert (project / "data" / MARKER_FILE).is_file()
    assert "pyLapse 0.2 data in " in caplog.text and "added collection 'Garden'" in caplog.text

    caplog.clear()
    config_path = project / "capture_config.json"
    text = config_path.read_text()
    with Runtime(load_config(config_path), scheduler=False) as runtime:
        assert runtime.jobs is not None and runtime.jobs.count("export") == 2
    assert config_path.read_text() == text
    assert "pyLapse 0.2" not in caplog.text


def test_a_broken_file_at_first_start_is_logged_and_start_goes_on(project: Path, caplog) -> None:
    pytest.importorskip("pylapse.index.store")
    from pylapse.runtime import Runtime

    (project / "collections.json").write_text("{")
    with Runtime(load_config(project / "capture_config.json"), scheduler=False):
        pass
    assert "was not imported" in caplog.text and "collections.json: line 1" in caplog.text
    assert not (project / "data" / MARKER_FILE).exists()  # tried again at the next start
