"""A demo collection whose frames' times come from different evidence (issue 14): two frames
prove +09:00 in their EXIF, one between them has no offset (inferred), one file's evidence is
in conflict (the file reader is patched to say so) and one has no time at all (mtime)."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import piexif
from PIL import Image

from pylapse import filetime


def exif_jpeg(path: Path, taken: str, offset: str | None = None) -> None:
    exif_ifd = {piexif.ExifIFD.DateTimeOriginal: taken.encode()}
    if offset is not None:
        exif_ifd[piexif.ExifIFD.OffsetTimeOriginal] = offset.encode()
    buf = io.BytesIO()
    Image.new("RGB", (8, 8)).save(buf, "JPEG", exif=piexif.dump({"Exif": exif_ifd}))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(buf.getvalue())


def mixed_frames(runtime: Any, monkeypatch: Any, key: str = "demo") -> Path:
    folder = runtime.config.resolve(runtime.config.cameras["demo"].output_dir) / "roll"
    exif_ifd_frames = [
        ("a.jpg", "2026:03:10 09:00:00", "+09:00"),
        ("b.jpg", "2026:03:10 09:10:00", None),
        ("c.jpg", "2026:03:10 09:20:00", "+09:00"),
        ("gps.jpg", "2026:03:10 09:30:00", None),
    ]
    for name, taken, offset in exif_ifd_frames:
        exif_jpeg(folder / name, taken, offset)
    (folder / "undated.jpg").write_bytes(b"no time here")
    real = filetime.file_evidence

    def evidence(path: Any, **kwargs: Any) -> filetime.Evidence:
        found = real(path, **kwargs)
        if Path(path).name != "gps.jpg":
            return found
        return filetime.Evidence(
            found.local, found.time_source, None, None, filetime.TimeStatus.CONFLICT,
            "GPS says +02:00, the collection's zone +01:00",
        )  # fmt: skip

    monkeypatch.setattr(filetime, "file_evidence", evidence)
    runtime.index.scan(key, folder.parent, "Europe/Berlin")
    return folder
