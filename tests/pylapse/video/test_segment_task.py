"""The day-segment task's body without Celery (pylapse.video.distributed.encode_segment): what a
worker does with one day, called twice as a redone task would be, with the real ffmpeg."""

from __future__ import annotations

import dataclasses
from datetime import datetime
from pathlib import Path

import pytest

from pylapse.ffmpeg import find_ffmpeg
from pylapse.video.command import RenderOptions
from pylapse.video.distributed import encode_segment
from pylapse.video.segments import day_fingerprint
from tests.pylapse.video.test_segments import shoot

DRAFT = RenderOptions(fps=10, speed="draft")


def _task(tmp_path: Path, version: str | None = None) -> tuple[list, dict]:
    shots = shoot(tmp_path / "frames", datetime(2026, 3, 27), 5)
    rows = [[str(s.path), s.utc, s.offset, None, None, None, None] for s in shots]
    args = {
        "segment": str(tmp_path / "cache" / "2026-03-27.mp4"),
        "day": "2026-03-27",
        "rows": rows,
        "options": dataclasses.asdict(DRAFT),
        "fingerprint": day_fingerprint(shots),
        "size": [96, 64],
        "roots": [str(tmp_path)],
        "ffmpeg_version": version or find_ffmpeg().version,
    }
    return shots, args


def test_a_redone_day_is_found_complete_and_not_encoded_again(tmp_path: Path) -> None:
    shots, args = _task(tmp_path)
    (tmp_path / "cache").mkdir()
    done: list[int] = []
    first = encode_segment(**args, report=done.append)
    segment = Path(args["segment"])
    assert first["reused"] is False and first["manifest"]["output_frames"] == len(shots)
    assert done and done[-1] == len(shots)
    stamp = segment.stat().st_mtime_ns
    again = encode_segment(**args)
    assert again == {"manifest": first["manifest"], "reused": True}
    assert segment.stat().st_mtime_ns == stamp
    assert sorted(p.name for p in segment.parent.iterdir()) == ["2026-03-27.mp4",
                                                                "2026-03-27.mp4.json"]  # fmt: skip


def test_another_ffmpeg_build_is_refused_before_encoding(tmp_path: Path) -> None:
    _, args = _task(tmp_path, version="0.0-elsewhere")
    (tmp_path / "cache").mkdir()
    with pytest.raises(RuntimeError, match=r"asked for 0\.0-elsewhere"):
        encode_segment(**args)
    assert list((tmp_path / "cache").iterdir()) == []


def test_a_day_of_another_size_is_an_answer_not_a_failure(tmp_path: Path) -> None:
    _, args = _task(tmp_path)
    (tmp_path / "cache").mkdir()
    result = encode_segment(**{**args, "size": [48, 32]})
    assert "48x32" in result["other_size"] and "manifest" not in result
