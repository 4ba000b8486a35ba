"""The all-days colour map: one pixel per slot, one row per day, coloured by the sky colour
stored for each frame (mean, median or max of R, G, B over the metrics region), read from the
index alone, no image decoded; plus a copy scaled to 1920x1080.

A frame's day and slot are those of its own wall clock (UTC plus the offset stored with it), so
a day row is a local day across DST changes. Slots with no measured frame stay black; when two
frames fall in one slot, the later one colours it.
"""

from __future__ import annotations

import math
import threading
from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any

from PIL import Image

from pylapse.pictures.kinds import PictureError
from pylapse.pictures.request import Picture
from pylapse.progress import Progress, ProgressCallback, safe_report

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

    from pylapse.pictures.request import PictureRequest, PictureSource

__all__ = ["SCALED_SIZE", "STATS", "colormap", "colormap_picture"]

STATS = ("mean", "median", "max")
SCALED_SIZE = (1920, 1080)
DAY = 86400
_WIDEST_OFFSET = 14 * 3600  # UTC offsets run from -12 h to +14 h


def colormap(
    utcs: npt.NDArray[np.float64],
    offsets: npt.NDArray[np.int64],
    colours: npt.NDArray[np.float64],
    first: date,
    last: date,
    slot_width: float,
) -> Image.Image:
    """The colour map of the days ``first``..``last``: ``ceil(86400 / slot_width)`` wide, one
    row per day; row ``d``, column ``s`` is the colour of the frame whose wall clock falls in
    slot ``s`` of day ``first + d`` (rounded to 0-255)."""
    import numpy as np

    if not slot_width > 0:
        raise PictureError(f"slot_width: {slot_width!r} must be more than 0 seconds")
    days = (last - first).days + 1
    if days < 1:
        raise PictureError(f"date_to ({last}) is before date_from ({first})")
    width = math.ceil(DAY / slot_width)
    wall = utcs + offsets
    day = np.floor_divide(wall, DAY).astype(np.int64) - (first.toordinal() - 719163)
    slot = (np.mod(wall, DAY) // slot_width).astype(np.int64)
    keep = (day >= 0) & (day < days) & (slot < width)
    pixels = np.zeros((days, width, 3), np.uint8)
    pixels[day[keep], slot[keep]] = np.clip(np.rint(colours[keep]), 0, 255).astype(np.uint8)
    return Image.fromarray(pixels, "RGB")


def _utc_bounds(first: date, last: date) -> tuple[float, float]:
    """UTC seconds that hold every frame whose wall-clock day is in ``first..last``."""
    start = datetime.combine(first, time(0), tzinfo=UTC).timestamp() - _WIDEST_OFFSET
    stop = datetime.combine(last + timedelta(days=1), time(0), tzinfo=UTC).timestamp()
    return start, stop + _WIDEST_OFFSET


def colormap_picture(
    source: PictureSource,
    request: PictureRequest,
    progress: ProgressCallback | None = None,
    cancel: threading.Event | None = None,
) -> Picture:
    """The colour map ``request`` asks for, from ``source``'s index (stages: select, read)."""
    import numpy as np

    first, last, stat = request.date_from, request.date_to, request.stat
    assert first is not None and last is not None  # PictureRequest.checked()
    if stat not in STATS:
        raise PictureError(f"stat: {stat!r} must be one of {', '.join(STATS)}")
    lo, hi = _utc_bounds(first, last)
    utcs, offsets, colours = source.index.sky_colours(source.key, lo, hi, stat)
    safe_report(progress, Progress("select", 1, 1, message=f"{len(utcs)} measured frames"))
    if cancel is not None and cancel.is_set():
        from pylapse.progress import Cancelled

        raise Cancelled("the picture was cancelled")
    if not len(utcs):
        raise PictureError(
            f"{source.key} has no frames with sky colours from {first} to {last} "
            "(run `pylapse metrics` to measure them)"
        )
    width = request.slot_width
    if width is None:
        steps = np.diff(utcs)
        steps = steps[steps > 0]
        width = float(max(1.0, round(float(np.median(steps))))) if len(steps) else 10.0
    image = colormap(utcs, offsets, colours, first, last, width)
    safe_report(progress, Progress("read", len(utcs), len(utcs)))
    manifest: dict[str, Any] = {
        "kind": "colormap",
        "collection": source.key,
        "timezone": str(source.zone),
        "parameters": request.parameters(),
        "slot_width": width,
        "frames": len(utcs),
        "first_frame": float(utcs[0]),
        "last_frame": float(utcs[-1]),
    }
    scaled = image.resize(SCALED_SIZE, Image.Resampling.BOX)
    return Picture(image, manifest, {f"{SCALED_SIZE[0]}x{SCALED_SIZE[1]}": scaled})
