"""pylapse.tasks.render: a render job with deflicker and stabilise, on a real job runner, a real
index (lumas stored as capture stores them) and real ffmpeg."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from PIL import Image

from pylapse import naming, storage, timeutil
from pylapse.collection import Collection
from pylapse.config.file import load_config
from pylapse.ffmpeg import FfmpegNotFound, find_ffmpeg
from pylapse.imaging.deflicker import measure_luma
from pylapse.index.store import FrameIndex
from pylapse.jobs.record import JobState
from pylapse.jobs.runner import JobRunner
from pylapse.tasks.render import queue_render
from tests.pylapse.tasks.test_export import _finished
from tests.pylapse.video.test_render_deflicker import decoded_lumas

TZ = timeutil.zone("Europe/Berlin")
COUNT = 16


@pytest.fixture
def setup(tmp_path: Path):
    try:
        find_ffmpeg()
    except FfmpegNotFound as exc:
        pytest.skip(f"no ffmpeg: {exc}")
    root = tmp_path / "storage" / "cam"
    cfg = tmp_path / "capture_config.json"
    cfg.write_text(json.dumps({
        "storage_roots": [str(tmp_path / "storage")],
        "data_dir": str(tmp_path / "data"),
        "collections": {"cam": {"name": "Cam", "path": str(root), "timezone": "Europe/Berlin"}},
    }))  # fmt: skip
    config = load_config(cfg)
    index = FrameIndex(tmp_path / "data" / "pylapse.db")
    start = datetime(2026, 3, 2, 9, tzinfo=TZ)
    for k in range(COUNT):  # a steady scene, each frame indexed with its luma as capture does
        when = start + k * timedelta(minutes=10)
        folder = storage.day_folder(root, when)
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / naming.format_name(when, prefix="cam-")
        image = Image.new("RGB", (64, 48), (120, 110, 100))
        image.paste((160, 150, 140), (8 * (k % 4), 10, 8 * (k % 4) + 20, 30))
        image.save(path, quality=95)
        luma = measure_luma(image)
        # the index says frame 7 is 40 % brighter than it is: deflicker must darken it
        told = luma * 1.4 if k == 7 else luma
        index.add_frame("cam", path, when, size=path.stat().st_size, mtime=None, luma=told)
    runner = JobRunner(tmp_path / "data" / "jobs.db", workers=1, queue_size=4)
    runner.start()
    coll = Collection.from_config(config, "cam", index)
    yield config, coll, runner, tmp_path
    runner.shutdown()
    index.close()


def _render(setup: tuple, name: str, options: dict) -> object:
    config, coll, runner, tmp_path = setup
    job_id = queue_render(
        runner, config, title=name, frames=lambda: coll.select(), params={},
        output=tmp_path / "storage" / "videos" / f"{name}.mp4", options={"fps": 10, **options},
    )  # fmt: skip
    return _finished(runner, job_id)


def test_a_render_job_deflickers_from_the_index_luma(setup: tuple) -> None:
    plain = _render(setup, "plain", {})
    even = _render(setup, "even", {"deflicker": True})
    assert plain.state is JobState.DONE and even.state is JobState.DONE, even.error
    assert plain.steps == ("select", "encode")
    assert even.steps == ("select", "deflicker", "encode")
    before, after = (
        decoded_lumas(Path(plain.result["output"]), (64, 48)),
        decoded_lumas(Path(even.result["output"]), (64, 48)),
    )
    assert len(before) == len(after) == COUNT
    assert after[7] / before[7] == pytest.approx(1 / 1.4, abs=0.04)
    others = [a / b for i, (a, b) in enumerate(zip(after, before, strict=True)) if i != 7]
    assert max(abs(r - 1) for r in others) < 0.03


def test_a_render_job_stabilises_as_its_own_step(setup: tuple) -> None:
    if find_ffmpeg().stabilise_support() is not None:
        pytest.skip(f"no stabilising here: {find_ffmpeg().stabilise_support()}")
    job = _render(setup, "steady", {"stabilise": True, "deflicker": True})
    assert job.state is JobState.DONE, job.error
    assert job.steps == ("select", "deflicker", "stabilise", "encode")
    assert job.percent == 100
    manifest = json.loads(Path(job.result["manifest"]).read_text())
    assert "vidstabdetect" in " ".join(manifest["stabilise_command"])
