"""pylapse.tasks: a preset queued as a job with its video after it, on a real job runner,
real frames, a real index and real ffmpeg."""

from __future__ import annotations

import json
import time
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from pylapse import timeutil
from pylapse.collection import Collection
from pylapse.config.file import load_config
from pylapse.export.options import ExportOptions
from pylapse.ffmpeg import FfmpegNotFound, find_ffmpeg
from pylapse.index.store import FrameIndex
from pylapse.jobs.record import JobState
from pylapse.jobs.runner import JobRunner
from pylapse.tasks.export import VideoAfter, queue_export, video_output
from tests.pylapse.test_collection import make_frames

TZ = timeutil.zone("Europe/Berlin")


@pytest.fixture
def setup(tmp_path):
    try:
        find_ffmpeg()
    except FfmpegNotFound as exc:
        pytest.skip(f"no ffmpeg: {exc}")
    frames = tmp_path / "storage" / "cam"
    make_frames(frames, datetime(2026, 3, 2, 6, tzinfo=TZ), 12, timedelta(hours=1))
    cfg = tmp_path / "capture_config.json"
    cfg.write_text(json.dumps({
        "storage_roots": [str(tmp_path / "storage")],
        "data_dir": str(tmp_path / "data"),
        "collections": {"cam": {"name": "Cam", "path": str(frames), "timezone": "Europe/Berlin"}},
        "exports": {"hourly": {"collection": "cam", "minute": 0, "width": 32, "height": 24}},
    }))  # fmt: skip
    config = load_config(cfg)
    index = FrameIndex(tmp_path / "data" / "pylapse.db")
    runner = JobRunner(tmp_path / "data" / "jobs.db", workers=1, queue_size=4)
    runner.start()
    coll = Collection.from_config(config, "cam", index)
    coll.refresh()
    yield config, coll, runner
    runner.shutdown()
    index.close()


def _finished(runner: JobRunner, job_id: int) -> object:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        job = runner.get(job_id)
        if job.state.finished:
            return job
        time.sleep(0.05)
    pytest.fail(f"job {job_id} did not finish within 60 s")


def test_an_export_job_writes_the_preset_and_queues_its_video(setup):
    config, coll, runner = setup
    preset = config.exports["hourly"]
    folder = config.export_folder("hourly")
    assert folder is not None
    job_id = queue_export(
        runner, config, coll, "hourly", preset, folder, ExportOptions.from_mapping(preset),
        video=VideoAfter("h264", 6.0),
    )
    export = _finished(runner, job_id)
    assert export.state is JobState.DONE, export.error
    assert len(list(folder.glob("*.jpg"))) == 12
    assert export.params["video"] == {"codec": "h264", "fps": 6.0}
    render = _finished(runner, export.result["video_job"])
    assert render.state is JobState.DONE, render.error
    video = Path(render.result["output"])
    assert video.parent == config.videos_folder and video.name.startswith("hourly-")
    assert video.suffix == ".mp4" and video.stat().st_size > 0
    assert render.result["frames"] == 12 and render.params["source"] == "export"


def test_a_video_that_cannot_be_queued_is_said_in_the_export_result(setup):
    config, coll, runner = setup
    preset = config.exports["hourly"]
    folder = config.export_folder("hourly")
    assert folder is not None
    options = ExportOptions.from_mapping(preset)
    job_id = queue_export(
        runner, config, coll, "hourly", preset, folder, options, video=VideoAfter("nope", 6.0)
    )
    export = _finished(runner, job_id)
    assert export.state is JobState.DONE
    assert "video_job" not in export.result
    assert export.result["video_error"].startswith("the video was not queued: ")
    assert "nope" in export.result["video_error"]


def test_video_output_names_a_file_in_the_videos_folder(setup):
    config, _coll, _runner = setup
    path = video_output(config, "my preset/../x", "h264")
    assert path.parent == config.videos_folder
    assert path.name.startswith("my-preset-x-2") and path.suffix == ".mp4"
