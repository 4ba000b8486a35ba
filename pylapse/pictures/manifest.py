"""Saving a picture: the image and a JSON manifest beside it (``NAME.json``: kind, collection,
dates, parameters, size and the frames it was made of), each written atomically, so a failed or
cancelled run never harms an earlier picture of the same name; and listing the pictures of a
folder by their manifests (the dashboard's Pictures page).
"""

from __future__ import annotations

import functools
import io
import json
import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PIL import Image

from pylapse import storage
from pylapse.pictures.kinds import PictureError

__all__ = [
    "FORMATS",
    "MANIFEST_KEY",
    "SavedPicture",
    "image_format",
    "list_pictures",
    "manifest_path",
    "save_picture",
    "thumbnail_path",
]

log = logging.getLogger(__name__)

MANIFEST_KEY = "pylapse_picture"  # marks a JSON file as a picture's manifest (its version)
FORMATS = {".png": "PNG", ".jpg": "JPEG", ".jpeg": "JPEG", ".tif": "TIFF", ".tiff": "TIFF",
           ".webp": "WEBP"}  # fmt: skip
THUMB_SIDE = 320


@dataclass(frozen=True, slots=True)
class SavedPicture:
    path: Path
    manifest: dict[str, Any]

    @property
    def thumbnail(self) -> Path:
        return thumbnail_path(self.path)


def image_format(path: str | os.PathLike[str]) -> str:
    """The image format an output path's extension asks for (``PictureError`` naming it)."""
    suffix = Path(path).suffix.lower()
    if suffix not in FORMATS:
        raise PictureError(
            f"output: {os.fspath(path)!r} must end in one of {', '.join(sorted(FORMATS))}"
        )
    return FORMATS[suffix]


def manifest_path(path: str | os.PathLike[str]) -> Path:
    return Path(f"{os.fspath(path)}.json")


def thumbnail_path(path: str | os.PathLike[str]) -> Path:
    p = Path(path)
    return p.with_name(f".{p.name}.thumb.jpg")


def _encoded(image: Image.Image, fmt: str) -> bytes:
    buffer = io.BytesIO()
    options: dict[str, Any] = {"quality": 92} if fmt in ("JPEG", "WEBP") else {}
    image.save(buffer, fmt, **options)
    return buffer.getvalue()


def save_picture(
    image: Image.Image,
    output: str | os.PathLike[str],
    manifest: Mapping[str, Any],
    *,
    thumbnail: bool = False,
    variants: Mapping[str, Image.Image] | None = None,
) -> SavedPicture:
    """Write ``image`` to ``output`` (format by extension) and its manifest beside it, each
    through a temporary file renamed into place; ``thumbnail`` also writes a small JPEG
    (``.NAME.thumb.jpg``) for listings; each of ``variants`` is saved as ``STEM-NAME.EXT``.
    Everything is encoded before anything is replaced."""
    path = Path(output)
    fmt = image_format(path)
    data = _encoded(image, fmt)
    others = {
        path.with_name(f"{path.stem}-{name}{path.suffix}"): _encoded(other, fmt)
        for name, other in (variants or {}).items()
    }
    record = {MANIFEST_KEY: 1, **manifest, "file": path.name, "width": image.width,
              "height": image.height, "variants": sorted(p.name for p in others)}  # fmt: skip
    text = json.dumps(record, indent=1, default=str).encode()
    small = None
    if thumbnail:
        thumb = image.copy()
        thumb.thumbnail((THUMB_SIDE, THUMB_SIDE), Image.Resampling.BILINEAR)
        small = _encoded(thumb.convert("RGB"), "JPEG")
    for other, encoded in others.items():
        storage.atomic_write(other, encoded)
    storage.atomic_write(path, data)
    storage.atomic_write(manifest_path(path), text)
    if small is not None:
        storage.atomic_write(thumbnail_path(path), small)
    return SavedPicture(path, record)


def list_pictures(folder: str | os.PathLike[str]) -> list[SavedPicture]:
    """The pictures in ``folder`` that have a manifest and whose image is there, newest first.

    Each listed manifest is its summary: ``frames`` (thousands of entries for a day at 10 s) is
    left out and ``frame_count`` given instead; summaries are kept while the file is unchanged,
    so a page listing pictures does not parse every frame list on every view."""
    found: list[tuple[float, SavedPicture]] = []
    try:
        entries = list(os.scandir(folder))
    except FileNotFoundError:
        return []
    for entry in entries:
        if not entry.name.endswith(".json") or entry.name.startswith("."):
            continue
        image = Path(entry.path[: -len(".json")])
        try:
            stat = entry.stat()
            record = _summary(entry.path, stat.st_mtime_ns, stat.st_size)
        except (OSError, ValueError) as exc:
            log.warning("cannot read %s: %s", entry.path, exc)
            continue
        if record is None or not image.is_file():
            continue
        found.append((stat.st_mtime, SavedPicture(image, dict(record))))
    found.sort(key=lambda item: (-item[0], item[1].path.name))
    return [picture for _, picture in found]


@functools.lru_cache(maxsize=1024)
def _summary(path: str, mtime_ns: int, size: int) -> dict[str, Any] | None:
    """A manifest without its frame list (None: not a picture's manifest); cached by the file's
    modification time and size, so a replaced manifest is read again."""
    record = json.loads(Path(path).read_text(encoding="utf-8"))
    if not isinstance(record, dict) or MANIFEST_KEY not in record:
        return None
    frames = record.pop("frames", None)
    if isinstance(frames, list):
        frames = sum(1 for entry in frames if isinstance(entry, list) and entry[-1] is not None)
    record["frame_count"] = frames
    return record
