"""Whether the file at a render's output path is still the video that render made
(pylapse.tasks.render_files), on real files."""

from __future__ import annotations

import os
from pathlib import Path

from pylapse.jobs.record import JobRecord, JobState
from pylapse.tasks.render_files import VideoFile, file_notes, video_state


def _render(job_id: int, video: Path, state: JobState = JobState.DONE) -> JobRecord:
    """A finished render job whose result describes ``video`` as it is now."""
    stat = video.stat()
    result = {"output": str(video), "bytes": stat.st_size, "mtime_ns": stat.st_mtime_ns}
    return JobRecord(job_id, "render", f"Render {job_id}", state, ("encode",), result=result)


def test_the_video_a_render_made_until_it_is_replaced_or_gone(tmp_path: Path) -> None:
    video = tmp_path / "clip.mp4"
    video.write_bytes(b"first render")
    job = _render(1, video)
    assert video_state([tmp_path], job) == (VideoFile.OK, video)
    # another file at the path (a later render's): never this entry's video
    video.write_bytes(b"a later, longer render")
    assert video_state([tmp_path], job) == (VideoFile.REPLACED, None)
    video.unlink()
    assert video_state([tmp_path], job) == (VideoFile.MISSING, None)


def test_outside_the_roots_or_not_finished(tmp_path: Path) -> None:
    video = tmp_path / "clip.mp4"
    video.write_bytes(b"x")
    elsewhere = tmp_path / "other-root"
    elsewhere.mkdir()
    assert video_state([elsewhere], _render(1, video)) == (VideoFile.MISSING, None)
    running = _render(2, video, JobState.RUNNING)
    assert video_state([tmp_path], running) == (VideoFile.NONE, None)


def test_a_copy_keeping_its_time_to_two_seconds_is_the_same_video(tmp_path: Path) -> None:
    video = tmp_path / "clip.mp4"
    video.write_bytes(b"same bytes")
    job = _render(1, video)
    stamp = video.stat().st_mtime_ns
    os.utime(video, ns=(stamp, stamp + 1_500_000_000))  # FAT keeps times to 2 s
    assert video_state([tmp_path], job)[0] is VideoFile.OK
    os.utime(video, ns=(stamp, stamp + 5_000_000_000))
    assert video_state([tmp_path], job)[0] is VideoFile.REPLACED


def test_a_history_page_names_the_render_that_holds_a_replaced_path(tmp_path: Path) -> None:
    video = tmp_path / "clip.mp4"
    video.write_bytes(b"first")
    first = _render(1, video)
    video.write_bytes(b"second, replacing it")
    second = _render(2, video)
    notes = file_notes([tmp_path], [second, first])
    assert notes == {2: {"state": "ok", "by": None}, 1: {"state": "replaced", "by": 2}}
