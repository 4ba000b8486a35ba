"""Real frames of a camera that dies for a while: live frames (noise, each one different), a
frozen run (the same JPEG bytes again and again) and blank frames (one flat grey), named the
default way in day folders, so a scan indexes them and the metrics job scores them; and a camera
capturing from a local HTTP camera (:func:`porch_camera`) whose pictures a test chooses."""

from __future__ import annotations

import io
import random
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from PIL import Image

from pylapse import naming, storage

if TYPE_CHECKING:
    from pylapse.capture.camera import Camera
    from tests.servers.camera_server import CameraServer

COUNT = 40
FROZEN = range(10, 17)  # seven frames of one picture
BLANK = (25, 26)


def _jpeg(image: Image.Image) -> bytes:
    buf = io.BytesIO()
    image.save(buf, "JPEG", quality=90)
    return buf.getvalue()


def _noise(seed: int) -> bytes:
    rng = random.Random(seed)
    return _jpeg(Image.frombytes("L", (64, 48), rng.randbytes(64 * 48)).convert("RGB"))


def write_dead_sequence(
    root: Path, start: datetime, step: timedelta, *, first: int = 0, count: int = COUNT,
    frozen: range = FROZEN, blank: tuple[int, ...] = BLANK, prefix: str = "cam-",
) -> list[Path]:  # fmt: skip
    """Frames ``first`` .. ``count - 1`` at ``start + k * step``; frames in ``frozen`` are one
    picture's bytes, those in ``blank`` flat grey, the others live."""
    still = _noise(-1)
    grey = _jpeg(Image.new("RGB", (64, 48), (128, 128, 128)))
    paths = []
    for k in range(first, count):
        when = start + k * step
        folder = storage.day_folder(root, when)
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / naming.format_name(when, prefix=prefix)
        path.write_bytes(still if k in frozen else grey if k in blank else _noise(k))
        paths.append(path)
    return paths


@contextmanager
def porch_camera(
    folder: Path, frame_size: tuple[int, int] = (320, 240)
) -> Iterator[tuple[CameraServer, Camera]]:
    """A local HTTP camera and the camera ``cam`` capturing its ``/cam`` into ``folder`` (route
    ``/cam`` to a behaviour before each capture)."""
    from pylapse.capture.camera import Camera
    from pylapse.config.cameras import CameraConfig
    from tests.servers.camera_server import CameraServer

    with CameraServer(frame_size=frame_size) as server:
        cfg = CameraConfig(name="Porch", url=server.url("/cam"), output_dir=str(folder))
        yield server, Camera("Porch", config=cfg, camera_id="cam", output_dir=folder)
