"""The manifest beside every rendered video: what went in, how, and with which ffmpeg.

``timelapse.mp4`` gets ``timelapse.mp4.json`` holding the frame-list hash and count, the first and
last frame times, every render option, the ffmpeg version and the command line, so any render can
be reproduced, or two renders compared, without opening the video.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

from pylapse import storage

__all__ = ["MANIFEST_SUFFIX", "frame_list_hash", "manifest_path", "read_manifest", "write_manifest"]

MANIFEST_SUFFIX = ".json"
MANIFEST_VERSION = 1


def manifest_path(video: str | os.PathLike[str]) -> Path:
    """Where the manifest of ``video`` lives: the video's full name plus ``.json``."""
    video = Path(video)
    return video.with_name(video.name + MANIFEST_SUFFIX)


def frame_list_hash(list_text: str) -> str:
    """``sha256:<hex>`` of the concat list ffmpeg read (paths, order and repeats)."""
    return "sha256:" + hashlib.sha256(list_text.encode("utf-8")).hexdigest()


def write_manifest(video: str | os.PathLike[str], data: dict[str, Any]) -> Path:
    """Write ``data`` (plus the manifest version) atomically beside ``video``."""
    body = {"manifest_version": MANIFEST_VERSION, **data}
    text = json.dumps(body, indent=2, sort_keys=False, default=str, ensure_ascii=False)
    return storage.atomic_write(manifest_path(video), (text + "\n").encode("utf-8"))


def read_manifest(video: str | os.PathLike[str]) -> dict[str, Any] | None:
    """The manifest of ``video``, or ``None`` when it has none (or it is unreadable)."""
    try:
        data = json.loads(manifest_path(video).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None
