"""Pictures as jobs: staged progress, the result, the thumbnail; a cancelled or failed run keeps
the earlier picture; the config fills the slot width and the place."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image

from pylapse.collection import Collection
from pylapse.config.file import load_config
from pylapse.config.models import Config
from pylapse.index.store import FrameIndex
from pylapse.jobs.record import JobState
from pylapse.jobs.runner import JobRunner
from pylapse.pictures.kinds import PictureError, PictureKind
from pylapse.pictures.manifest import thumbnail_path
from pylapse.pictures.request import PictureRequest
from pylapse.progress import Cancelled, Progress
from pylapse.tasks.picture import (
    configured_request,
    make_and_save,
    make_days,
    picture_output,
    queue_picture,
)
from tests.pylapse.pictures.picture_support import DAY, MISSING, W, write_day


@pytest.fixture
def setup(tmp_path: Path) -> Iterator[tuple[Config, Collection, JobRunner]]:
    write_day(tmp_path / "cam", DAY, MISSING)
    cfg = tmp_path / "capture_config.json"
    cfg.write_text(json.dumps({
        "data_dir": "data",
        "storage_roots": [str(tmp_path)],
        "cameras": {"cam": {"name": "Cam", "url": "http://127.0.0.1:9/x.jpg", "output_dir": "cam",
                            "timezone": "UTC", "latitude": 60.2, "longitude": 24.9,
                            "schedules": [{"id": "s", "type": "interval", "interval_amount": 5,
                                           "interval_unit": "minutes"}]}},
    }))  # fmt: skip
    config = load_config(cfg)
    index = FrameIndex(tmp_path / "data" / "pylapse.db")
    runner = JobRunner(tmp_path / "data" / "jobs.db", workers=1, queue_size=4)
    runner.start()
    collection = Collection.from_config(config, "cam", index)
    collection.refresh()
    yield config, collection, runner
    runner.shutdown()
    index.close()


def test_the_config_gives_the_slot_width_and_the_place(setup) -> None:
    config, _, _ = setup
    request = configured_request(config, "cam", PictureRequest(PictureKind.KEOGRAM, day=DAY))
    assert (request.slot_width, request.latitude, request.longitude) == (300.0, 60.2, 24.9)
    mine = PictureRequest(PictureKind.KEOGRAM, day=DAY, slot_width=60, latitude=1, longitude=2)
    assert configured_request(config, "cam", mine) == mine
    with pytest.raises(PictureError, match="kind: 'mosaic'"):
        configured_request(config, "cam", PictureRequest("mosaic", day=DAY))  # type: ignore[arg-type]


def test_a_picture_job_reports_its_steps_and_saves_with_a_thumbnail(setup) -> None:
    config, collection, runner = setup
    request = configured_request(config, "cam", PictureRequest(PictureKind.DAYSTRIP, day=DAY))
    output = picture_output(config, "cam", request)
    assert output == Path(config.root_paths[0]) / "pictures" / f"cam-daystrip-{DAY}.png"
    seen: list[str] = []
    updates = runner.subscribe()
    job = queue_picture(runner, collection, "cam", request, output)
    record = runner.wait(job, timeout=60)
    while not updates.empty():
        step = updates.get().step
        if step and step not in seen:
            seen.append(step)
    assert record.state is JobState.DONE, record.error
    assert seen == ["select", "read", "save"]
    assert record.percent == 100
    assert record.result is not None and record.result["output"] == str(output)
    assert record.result["height"] == 288  # 5-minute slots from the camera's schedule
    assert record.params["kind"] == "daystrip" and record.params["collection"] == "cam"
    with Image.open(output) as image:
        assert image.size == (W, 288)
    assert thumbnail_path(output).is_file()


def test_a_cancelled_picture_keeps_the_earlier_one(setup, tmp_path) -> None:
    _, collection, _ = setup
    out = tmp_path / "strip.png"
    request = PictureRequest(PictureKind.DAYSTRIP, day=DAY)
    make_and_save(collection, request, out)
    before = out.read_bytes(), out.with_name("strip.png.json").read_bytes()
    cancel = threading.Event()

    def progress(p: Progress) -> None:
        if p.stage == "read" and p.done >= 10:
            cancel.set()

    with pytest.raises(Cancelled):
        make_and_save(collection, PictureRequest(PictureKind.DAYSTRIP, day=DAY, row=3), out,
                      progress, cancel, thumbnail=True)  # fmt: skip
    assert (out.read_bytes(), out.with_name("strip.png.json").read_bytes()) == before
    assert sorted(p.name for p in tmp_path.glob("strip*")) == ["strip.png", "strip.png.json"]
    assert not list(tmp_path.glob(".strip*"))


def test_pictures_by_day_are_each_day_made_alone_and_name_the_empty_days(setup) -> None:
    from datetime import timedelta

    config, collection, _ = setup
    request = PictureRequest(PictureKind.KEOGRAM, slot_width=600)
    made = make_days(config, collection, "cam", request, DAY - timedelta(days=1), DAY)
    assert made["kind"] == "keogram" and made["empty_days"] == [str(DAY - timedelta(days=1))]
    (one,) = made["pictures"]
    alone = configured_request(config, "cam", PictureRequest(PictureKind.KEOGRAM, day=DAY,
                                                             slot_width=600))  # fmt: skip
    output = picture_output(config, "cam", alone)
    assert one["output"] == str(output) and one["frames"] == 144 - len(MISSING)
    by_days = output.read_bytes(), output.with_name(output.name + ".json").read_bytes()
    make_and_save(collection, alone, output)
    assert (output.read_bytes(), output.with_name(output.name + ".json").read_bytes()) == by_days


def test_pictures_by_day_refuse_what_they_cannot_make(setup) -> None:
    from datetime import timedelta

    config, collection, _ = setup
    strip = PictureRequest(PictureKind.DAYSTRIP)
    with pytest.raises(PictureError, match="is before"):
        make_days(config, collection, "cam", strip, DAY, DAY - timedelta(days=1))
    with pytest.raises(PictureError, match="one-day kinds, not colormap"):
        make_days(config, collection, "cam", PictureRequest(PictureKind.COLORMAP, date_from=DAY,
                  date_to=DAY), DAY, DAY)  # fmt: skip
    later = DAY + timedelta(days=5)
    with pytest.raises(PictureError, match=f"no frames from {later}"):
        make_days(config, collection, "cam", strip, later, later + timedelta(days=1))
