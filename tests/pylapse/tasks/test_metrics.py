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


def _as_old(index: FrameIndex, ids: list[int], paths: list[Path], ks: range) -> None:
    """Frames ``ks`` as an older method left them: other sharpness and hash, no version (the
    same write path, as scores stored before schema step 10 read); frame 1 version 0."""
    for k in ks:
        columns = quality.score_file(paths[k]).as_columns()
        old = {**columns, "sharpness": float(columns["sharpness"]) / 4.77, "noise": 0.5}
        old["dhash"] = int(columns["dhash"]) ^ 0b1011  # 3 bits apart, as the method changed
        old["score_version"] = 0 if k == 1 else None
        index.set_scores([(ids[k], old)])


def test_frames_of_version_1_have_no_grain_and_a_rescore_fills_it(archive) -> None:
    """Version 1 scored everything but the grain (the same numbers otherwise): such frames
    count as older, and --rescore-old gives them their grain, the rest unchanged."""
    index, ids, _paths = archive
    fill_metrics(index, "arch")
    before = [index.get(i) for i in ids]
    grains = index._reader().execute("SELECT COUNT(grain) FROM frames").fetchone()[0]
    assert grains == len(ids)
    index.set_scores([(i, {"grain": None, "score_version": 1}) for i in ids])
    assert index.count_old_scores("arch", quality.VERSION) == len(ids)
    result = fill_metrics(index, "arch", rescore_old=True)
    assert (result.scored, result.failed) == (len(ids), 0)
    assert index.count_old_scores("arch", quality.VERSION) == 0
    rows = index._reader().execute("SELECT id, grain FROM frames ORDER BY id").fetchall()
    assert all(grain is not None for _id, grain in rows)
    after = [index.get(i) for i in ids]
    assert [(f.sharpness, f.dhash, f.luma) for f in after] == [
        (f.sharpness, f.dhash, f.luma) for f in before
    ]


def test_frames_an_older_method_scored_are_counted_and_rescored(archive) -> None:
    index, ids, paths = archive
    fill_metrics(index, "arch")
    assert index.count_old_scores("arch", quality.VERSION) == 0
    _as_old(index, ids, paths, range(4))
    index.set_scores([(ids[4], {"hash_distance": 99}), (ids[6], {"sharpness": 777.0})])
    assert index.count_old_scores("arch", quality.VERSION) == 4
    assert index.count_old_scores("arch", 0) == 3  # only the NULLs are older than version 0
    # the default run leaves them (a rescore is every old frame's decode again)
    assert fill_metrics(index, "arch").scored == 0
    assert index.count_old_scores("arch", quality.VERSION) == 4

    reports: list[Progress] = []
    result = fill_metrics(index, "arch", reports.append, batch=3, rescore_old=True)
    assert (result.scored, result.failed) == (4, 0)
    assert reports[-1].done == reports[-1].total == 4
    assert index.count_old_scores("arch", quality.VERSION) == 0
    frames = [index.get(i) for i in ids]
    for frame, path in zip(frames[:4], paths[:4], strict=True):
        fresh = quality.score_file(path)
        assert frame.sharpness == fresh.sharpness and frame.noise == fresh.noise
        assert frame.dhash == fresh.dhash
    assert frames[3].hash_distance == 0  # a repeat again, in the new hashes
    # the first frame not rescored is linked to its predecessor's new hash...
    assert frames[4].hash_distance == quality.hash_distance(frames[3].dhash, frames[4].dhash)
    assert frames[6].sharpness == 777.0  # ...and frames of this version are not decoded again
    assert fill_metrics(index, "arch", rescore_old=True).scored == 0


def test_a_cancelled_rescore_resumes_where_it_stopped(archive) -> None:
    index, ids, paths = archive
    fill_metrics(index, "arch")
    _as_old(index, ids, paths, range(5))
    cancel = threading.Event()

    def stop_after_the_first(p: Progress) -> None:
        if p.done >= 1:
            cancel.set()

    with pytest.raises(Cancelled):
        fill_metrics(index, "arch", stop_after_the_first, cancel, rescore_old=True)
    assert index.count_old_scores("arch", quality.VERSION) == 4  # the first one was written
    assert fill_metrics(index, "arch", rescore_old=True).scored == 4
    assert index.count_old_scores("arch", quality.VERSION) == 0
    frames = [index.get(i) for i in ids]
    assert frames[3].hash_distance == 0
    assert all(f.dhash == quality.score_file(p).dhash for f, p in zip(frames, paths, strict=True))
    assert frames[5].hash_distance == quality.hash_distance(frames[4].dhash, frames[5].dhash)


def test_capture_and_re_added_frames_carry_the_version(archive) -> None:
    index, _ids, paths = archive
    scores = quality.score_file(paths[0]).as_columns()
    assert scores["score_version"] == quality.VERSION
    when = START + timedelta(hours=1)
    fid = index.add_frame("arch", paths[0], when, size=1, mtime=1.0, scores=scores)
    assert index.count_old_scores("arch", quality.VERSION) == 0
    _as_old(index, [fid], paths, range(1))
    assert index.count_old_scores("arch", quality.VERSION) == 1
    # the same file added again: its old scores go with its version (nothing old is left)
    index.add_frame("arch", paths[0], when, size=1, mtime=1.0)
    assert index.count_old_scores("arch", quality.VERSION) == 0
