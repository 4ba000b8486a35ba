"""A camera folder with indexed frames and a retention config, for the retention tests."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from pylapse import naming, storage, timeutil
from pylapse.config.file import load_config
from pylapse.config.models import Config
from pylapse.index.store import FrameIndex

BERLIN = timeutil.zone("Europe/Berlin")
FIRST_DAY = date(2026, 3, 2)  # five days from here, 40 days before NOW
NOW = datetime(2026, 4, 11, 12, 0, tzinfo=BERLIN).timestamp()
DAYS = 5
PER_DAY = 25  # 10:00 to 12:00 every 5 minutes


def make_config(tmp_path: Path, retention: dict[str, Any], **top: Any) -> Config:
    raw = {
        "data_dir": "data",
        "storage_roots": ["timelapse"],
        "layout": "day_folders",
        "cameras": {
            "porch": {
                "type": "synthetic",
                "output_dir": "timelapse/porch",
                "timezone": "Europe/Berlin",
                "retention": {"enabled": True, **retention},
            }
        },
        **top,
    }
    path = tmp_path / "capture_config.json"
    path.write_text(json.dumps(raw))
    (tmp_path / "timelapse" / "porch").mkdir(parents=True, exist_ok=True)
    return load_config(path)


def make_frames(
    config: Config,
    index: FrameIndex,
    sharpness: Callable[[int, int], float | None] = lambda day, i: None,
    *,
    days: int = DAYS,
    per_day: int = PER_DAY,
) -> list[Path]:
    """Frames every 5 minutes from 10:00 on ``days`` days, written and indexed as capture
    would (size known, sharpness from ``sharpness(day number, frame number)``)."""
    root = config.resolve("timelapse/porch")
    paths = []
    for d in range(days):
        base = datetime(2026, 3, 2 + d, 10, 0, tzinfo=BERLIN)
        for i in range(per_day):
            when = base + timedelta(minutes=5 * i)
            path = storage.day_folder(root, when) / naming.format_name(when, prefix="porch-")
            path.parent.mkdir(parents=True, exist_ok=True)
            data = bytes([d, i]) * (50 + i)
            path.write_bytes(data)
            score = sharpness(d, i)
            index.add_frame("porch", path, when, size=len(data), mtime=None,
                            scores=None if score is None else {"sharpness": score})  # fmt: skip
            paths.append(path)
    return paths


def snapshot(folder: Path) -> dict[str, bytes]:
    """Every file under ``folder`` (trash included) by its path relative to it."""
    return {
        p.relative_to(folder).as_posix(): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file() and not p.name.endswith((".journal", ".lock"))
    }


def in_place(snap: dict[str, bytes]) -> set[str]:
    return {k for k in snap if not k.startswith(".trash/")}


def trashed(snap: dict[str, bytes]) -> set[str]:
    """Paths of trashed files relative to the camera folder (the run's id stripped)."""
    return {k.split("/", 2)[2] for k in snap if k.startswith(".trash/")}
