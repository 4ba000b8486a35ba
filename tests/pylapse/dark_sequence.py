"""Real frames of a camera whose lens is covered one evening: three days of noisy pictures, a
frame every 30 minutes, lit by day and dark at night, and on the second day the evening frames
(16:00 to 18:30, local time) far darker than the same time the day before. Named the default way
in day folders, so a scan indexes them and the metrics job scores them."""

from __future__ import annotations

import io
import random
from datetime import datetime, timedelta
from pathlib import Path

from PIL import Image

from pylapse import naming, storage

STEP = timedelta(minutes=30)
COUNT = 3 * 48  # three days
DAY_LUMA, NIGHT_LUMA, COVERED_LUMA = 140, 12, 25
# positions of the covered evening: day 2 (positions 48..95), 16:00 to 18:30
DARK = range(48 + 32, 48 + 38)


def level(k: int) -> int:
    """The mean grey level of frame ``k``: lit from 07:00 to 18:30, covered on day 2's evening."""
    if k in DARK:
        return COVERED_LUMA
    return DAY_LUMA if 14 <= k % 48 < 38 else NIGHT_LUMA


def picture(k: int, mean: int) -> bytes:
    """A 64x48 JPEG of noise around ``mean`` (never blank, never the same picture twice)."""
    rng = random.Random(k)
    pixels = bytes(max(0, min(255, mean + rng.randint(-10, 10))) for _ in range(64 * 48))
    buf = io.BytesIO()
    Image.frombytes("L", (64, 48), pixels).convert("RGB").save(buf, "JPEG", quality=90)
    return buf.getvalue()


def write_dark_sequence(root: Path, start: datetime, count: int = COUNT) -> list[Path]:
    """Frames 0 .. ``count - 1`` at ``start + k * STEP`` (``start``: a local midnight, aware)."""
    paths = []
    for k in range(count):
        when = start + k * STEP
        folder = storage.day_folder(root, when)
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / naming.format_name(when, prefix="cam-")
        path.write_bytes(picture(k, level(k)))
        paths.append(path)
    return paths
