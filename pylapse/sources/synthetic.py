"""The built-in demo camera: a rendered landscape whose sky follows the real sun.

A fresh install captures real frames at once with it, and the frames behave like a real camera's
over a day: night sky with stars, twilight glow, blue day sky, the sun disc where the sun actually
is (elevation and azimuth from ``astral`` for the camera's latitude/longitude at the frame's time),
clouds drifting with time, and a clock showing the frame's local time, so every frame differs.

Without ``latitude``/``longitude`` the location is guessed from the camera's time zone (longitude =
UTC offset x 15°, latitude 45°N) so the sun is up at local noon. Rendering a 1280x720 frame takes a
few milliseconds; nothing here touches the disk or the network.
"""

from __future__ import annotations

import io
import itertools
import math
import random
from datetime import datetime
from functools import lru_cache
from typing import TYPE_CHECKING

from astral import Observer
from astral.sun import azimuth, elevation
from PIL import Image, ImageDraw, ImageFont

from pylapse import timeutil
from pylapse.sources.base import FrameSource, GrabError

if TYPE_CHECKING:
    from pylapse.config.cameras import CameraConfig

__all__ = ["Source", "render_scene", "sky_color"]

DEFAULT_SIZE = (1280, 720)
_HORIZON = 0.68  # fraction of the height where the ground starts

# (sun elevation in degrees, zenith colour, horizon colour): interpolated between rows
_SKY = (
    (-18.0, (4, 6, 18), (10, 14, 34)),
    (-10.0, (10, 16, 48), (40, 40, 80)),
    (-4.0, (36, 52, 110), (214, 110, 70)),
    (0.0, (60, 96, 170), (250, 160, 90)),
    (6.0, (70, 130, 210), (235, 200, 160)),
    (20.0, (52, 120, 220), (170, 205, 240)),
    (90.0, (40, 110, 225), (160, 200, 245)),
)


def _mix(a: tuple[int, ...], b: tuple[int, ...], t: float) -> tuple[int, ...]:
    return tuple(round(x + (y - x) * t) for x, y in zip(a, b, strict=True))


def sky_color(sun_elevation: float) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """(zenith, horizon) RGB for a sun ``sun_elevation`` degrees above the horizon."""
    e = max(_SKY[0][0], min(_SKY[-1][0], sun_elevation))
    for (e0, z0, h0), (e1, z1, h1) in itertools.pairwise(_SKY):
        if e <= e1:
            t = (e - e0) / (e1 - e0)
            return _mix(z0, z1, t), _mix(h0, h1, t)
    return _SKY[-1][1], _SKY[-1][2]


def _daylight(sun_elevation: float) -> float:
    """0 at night, 1 in full day: scales the ground's brightness."""
    return max(0.08, min(1.0, (sun_elevation + 8.0) / 20.0))


@lru_cache(maxsize=8)
def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    return ImageFont.load_default(size=size)


@lru_cache(maxsize=4)
def _stars(width: int, height: int) -> tuple[tuple[int, int], ...]:
    rng = random.Random(width * 7919 + height)  # the same sky every night
    return tuple((rng.randrange(width), rng.randrange(height)) for _ in range(140))


def _observer(camera: CameraConfig, when: datetime) -> Observer:
    if camera.latitude is not None and camera.longitude is not None:
        return Observer(latitude=camera.latitude, longitude=camera.longitude)
    offset_hours = timeutil.offset_seconds(when) / 3600.0
    return Observer(latitude=45.0, longitude=max(-180.0, min(180.0, offset_hours * 15.0)))


def render_scene(
    when: datetime,
    size: tuple[int, int] = DEFAULT_SIZE,
    *,
    observer: Observer | None = None,
    label: str = "",
) -> Image.Image:
    """The scene at ``when`` (aware) seen from ``observer``, ``size`` pixels."""
    width, height = size
    observer = observer or Observer(latitude=45.0, longitude=0.0)
    sun_el = elevation(observer, when)
    sun_az = azimuth(observer, when)
    horizon_y = int(height * _HORIZON)

    zenith, low = sky_color(sun_el)
    column = Image.new("RGB", (1, horizon_y))
    column.putdata(
        [_mix(zenith, low, (y / max(1, horizon_y - 1)) ** 1.6) for y in range(horizon_y)]
    )
    img = Image.new("RGB", size)
    img.paste(column.resize((width, horizon_y), Image.Resampling.NEAREST), (0, 0))
    draw = ImageDraw.Draw(img)

    if sun_el < -6:  # stars fade in after civil twilight
        level = min(255, int(60 + (-6 - sun_el) * 16))
        for x, y in _stars(width, horizon_y):
            draw.point((x, y), fill=(level, level, level))

    # the sun disc: azimuth 60°..300° spans the frame, elevation 0°..60° the sky's height
    if sun_el > -3:
        sx = (sun_az - 60.0) / 240.0 * width
        sy = horizon_y - max(-0.05, min(1.0, sun_el / 60.0)) * horizon_y * 0.9
        r = max(6, width // 40)
        warm = _mix((255, 150, 60), (255, 245, 200), min(1.0, max(0.0, sun_el / 15.0)))
        draw.ellipse((sx - r, sy - r, sx + r, sy + r), fill=warm)

    # clouds drift right with time (one frame width every ten minutes), lit by the sky
    seconds = when.timestamp()
    light = _daylight(sun_el)
    cloud = _mix((40, 44, 60), (248, 248, 252), light)
    for i, (speed, y_frac, scale) in enumerate(((1.0, 0.18, 1.0), (0.6, 0.32, 0.7))):
        cx = (seconds * speed * width / 600.0 + i * width * 0.45) % (width * 1.3) - width * 0.15
        cy = height * y_frac
        w = width * 0.09 * scale
        for dx, dy, k in ((0, 0, 1.0), (w * 0.7, -w * 0.25, 0.8), (w * 1.4, 0, 0.9)):
            rr = w * 0.5 * k
            draw.ellipse(
                (cx + dx - rr, cy + dy - rr * 0.7, cx + dx + rr, cy + dy + rr * 0.7), fill=cloud
            )

    # hills and a field, darker at night
    far = _mix((0, 0, 0), (70, 110, 80), light)
    near = _mix((0, 0, 0), (60, 140, 55), light)
    hills: list[tuple[float, float]] = [(0, horizon_y)]
    for i in range(0, 41):
        hill_x = width * i / 40
        hills.append((hill_x, horizon_y - height * 0.05 * (1 + math.sin(i * 0.7) * 0.6)))
    hills.append((width, horizon_y))
    draw.polygon(hills, fill=far)
    draw.rectangle((0, horizon_y, width, height), fill=near)

    stamp = when.strftime("%Y-%m-%d %H:%M:%S ") + timeutil.format_offset(when)
    text_size = max(12, height // 24)
    font = _font(text_size)
    margin = text_size // 2
    for offset, colour in (((2, 2), (0, 0, 0)), ((0, 0), (255, 255, 255))):
        draw.text(
            (margin + offset[0], height - margin - text_size + offset[1]),
            stamp,
            fill=colour,
            font=font,
        )
        if label:
            draw.text((margin + offset[0], margin + offset[1]), label, fill=colour, font=font)
    return img


class Source(FrameSource):
    """Renders a frame for ``when`` (default: now) in the camera's time zone."""

    def grab(self, when: datetime | None = None) -> bytes:
        cam = self.camera
        try:
            tz = cam.zone()
        except Exception as exc:  # an unknown zone is a config problem; say it plainly
            raise GrabError(f"synthetic camera {cam.name!r}: {exc}") from None
        local = when.astimezone(tz) if when is not None else timeutil.now(tz)
        size = (cam.capture_width or DEFAULT_SIZE[0], cam.capture_height or DEFAULT_SIZE[1])
        img = render_scene(local, size, observer=_observer(cam, local), label=cam.name)
        out = io.BytesIO()
        img.save(out, "JPEG", quality=cam.quality or 85)
        return out.getvalue()

    def describe(self) -> str:
        return f"demo camera {self.camera.name!r} (synthetic scene)"
