"""The backfill job scores frames a scan indexed, resumes where it stopped, links hashes."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from PIL import Image, ImageDraw

from pylapse import timeutil
from pylapse.imaging import quality
from pylapse.index.store import FrameIndex
from pylapse.progress import Cancelled, Progress
from pylapse.tasks.metrics import fill_metrics

UTC = timeutil.zone("UTC")
START = datetime(2026, 4, 1, 12, 0, tzinfo=UTC)


def _frame(path: Path, seed: int, size: tuple[int, int] = (640, 480)) -> None:
    image = Image.linear_gradient("L").resize(size).convert("RGB")
    draw = ImageDraw.Draw(image)
    for k in range(12):
        x = (seed * 53 + k * 97) % size[0]
        y = (seed * 31 + k * 61) % size[1]
        draw.rectangle((x, y, x + 60, y + 40), fill=((seed * 40 + k * 20) % 256,) * 3)
    image.save(path, "JPEG", quality=90)


@pytest.fixture
def archive(tmp_path: Path, index_location: str) -> tuple[FrameIndex, list[int], list[Path]]:
    """Eight frames indexed without scores (as a scan leaves them): 2 and 3 are one picture,
    5 is black. The index on SQLite, then on PostgreSQL: the job writes every score column."""
    index = FrameIndex(index_location)
    ids, paths = [], []
    for k in range(8):
        path = tmp_path / f"f{k}.jpg"
        if k == 5:
            Image.new("RGB", (640, 480)).save(path, "JPEG")
        else:
            _frame(path, 2 if k == 3 else k)
        when = START + timedelta(minutes=k)
        ids.append(index.add_frame("arch", path, when, size=None, mtime=None))
        paths.append(path)
    yield index, ids, paths
    index.close()


def test_fill_scores_every_frame_and_links_hashes(archive) -> None:
    index, ids, paths = archive
    assert index.count_unscored("arch") == 8
    reports: list[Progress] = []
    result = fill_metrics(index, "arch", reports.append, batch=3)
    assert (result.scored, result.failed) == (8, 0)
    assert index.count_unscored("arch") == 0
    frames = [index.get(i) for i in ids]
    for frame, path in zip(frames, paths, strict=True):
        assert frame.dhash == quality.score_file(path).dhash
        assert (frame.width, frame.height) == (640, 480)  # the size before the draft decode
    assert frames[0].hash_distance is None  # nothing before the first
    assert frames[3].hash_distance == 0  # a duplicate of the one before
    assert all(f.hash_distance is not None for f in frames[1:])
    assert frames[4].hash_distance == quality.hash_distance(frames[3].dhash, frames[4].dhash)
    assert frames[5].clip_low == 1.0 and frames[5].sharpness == 0
    assert reports[-1].done == reports[-1].total == 8
    # nothing left: a second run decodes nothing
    assert fill_metrics(index, "arch").scored == 0


def test_a_cancelled_run_keeps_its_work_and_the_next_one_finishes(archive) -> None:
    index, ids, _paths = archive
    cancel = threading.Event()

    def stop_after_the_first(p: Progress) -> None:  # reports are throttled: the first passes
        if p.done >= 1:
            cancel.set()

    with pytest.raises(Cancelled):
        fill_metrics(index, "arch", stop_after_the_first, cancel, batch=100)
    assert index.count_unscored("arch") == 7  # the frame scored before the stop was written
    result = fill_metrics(index, "arch")
    assert result.scored == 7
    frames = [index.get(i) for i in ids]
    assert all(f.hash_distance is not None for f in frames[1:])
    assert frames[3].hash_distance == 0


def test_captured_frames_are_only_linked_and_unreadable_ones_counted(archive, tmp_path) -> None:
    index, ids, paths = archive
    before = quality.score_file(paths[0])
    # as capture did before sky metrics existed: scored, but without sky metrics
    captured = quality.score_file(paths[1]).as_columns()
    index.set_scores([(ids[1], {**captured, "sharpness": 12345.0})])
    paths[6].write_bytes(b"not a picture")
    result = fill_metrics(index, "arch")
    # frame 1 is decoded once more for its sky metrics; capture's scores are kept
    assert (result.scored, result.linked, result.failed) == (7, 1, 1)
    second = index.get(ids[1])
    assert second.sharpness == 12345.0
    assert len(index.sky_colours("arch", 0, 2e9)[0]) == 7
    assert second.hash_distance == quality.hash_distance(before.dhash, second.dhash)
    assert index.get(ids[6]).dhash is None
    assert index.get(ids[7]).hash_distance is None  # its predecessor could not be read


def test_the_sky_is_measured_over_the_region_the_config_gives(archive) -> None:
    from pylapse.config.models import Config
    from pylapse.imaging import sky
    from pylapse.tasks.metrics import region_for

    index, ids, paths = archive
    config = Config.model_validate({
        "cameras": {"cam": {"name": "Cam", "type": "synthetic", "output_dir": "out",
                            "metrics_region": {"top": 0, "bottom": 100}}},
        "collections": {
            "arch": {"name": "Arch", "path": "arch", "metrics_region": {"top": 380}},
            "feed": {"name": "Feed", "path": "out", "camera": "cam"},
        },
    })  # fmt: skip
    assert region_for(config, "arch") == sky.Region(380, None)
    assert region_for(config, "feed") == region_for(config, "cam") == sky.Region(0, 100)
    fill_metrics(index, "arch", region=region_for(config, "arch"))
    _utc, _offset, colours = index.sky_colours("arch", 0, 2e9, "mean")
    with Image.open(paths[0]) as image:
        image.load()
        small = quality.reduced(image, "RGB")
        low = sky.measure(small, image.height, sky.Region(380, None))
        whole = sky.measure(small, image.height)
    # the gradient is light at the bottom: the band of rows 380-480 is lighter than the frame
    assert tuple(colours[0]) == pytest.approx(low.mean, abs=1.5)
    assert colours[0][0] > whole.mean[0] + 40
    assert index.get(ids[0]).size == paths[0].stat().st_size  # stated where the scan did not
