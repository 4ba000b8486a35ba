"""Deflicker: a per-frame brightness gain from the frames' stored luma curve.

Auto-exposure hunts, so consecutive frames of a timelapse differ in brightness by more than the
scene did. Each frame's target brightness is a robust local fit of the luma curve around it (in
the log domain, where an exposure change is an offset): a straight line fitted to the ``window``
frames centred on it, refitted once without the quarter of frames that sit furthest from the
first fit. A line, not a flat mean, follows a sunrise ramp without lagging it, and the trim keeps
one odd frame (a passing headlight, a flash) from pulling its neighbours. The gain moves the
frame ``strength`` of the way (in log terms) to its target, within a clamp, so the slow
day/night trend stays and a truly dark frame is not blown up tenfold.

Everything here is pure: :func:`targets` and :func:`gains` take a luma sequence, and
:func:`apply_gain` is a point operation on a decoded image (no extra decode).
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Sequence

from PIL import Image, ImageStat

__all__ = [
    "DEFAULT_CLAMP",
    "DEFAULT_STRENGTH",
    "DEFAULT_WINDOW",
    "apply_gain",
    "gain_for",
    "gains",
    "measure_luma",
    "targets",
]

DEFAULT_WINDOW = 13  # frames: ±6, as the Home Assistant card's rolling mean
DEFAULT_STRENGTH = 1.0
DEFAULT_CLAMP = (0.67, 1.5)
_ROBUST_PASSES = 1
_FLOOR = 1.0  # luma below this is treated as 1: log(0) and a black frame's gain are unbounded
_METRIC_SIDE = 64  # pixels on the short side of the copy whose luma is measured


def _line(
    xs: Sequence[float], ys: Sequence[float], ws: Sequence[float]
) -> tuple[float, float, float]:
    """Weighted least-squares line through (xs, ys) as (mean x, mean y, slope)."""
    total = sum(ws)
    if total <= 0:
        return 0.0, sum(ys) / len(ys), 0.0
    mx = sum(w * x for w, x in zip(ws, xs, strict=True)) / total
    my = sum(w * y for w, y in zip(ws, ys, strict=True)) / total
    sxx = sum(w * (x - mx) ** 2 for w, x in zip(ws, xs, strict=True))
    if sxx <= 1e-12:
        return mx, my, 0.0
    sxy = sum(w * (x - mx) * (y - my) for w, x, y in zip(ws, xs, ys, strict=True))
    return mx, my, sxy / sxx


def targets(lumas: Sequence[float | None], window: int = DEFAULT_WINDOW) -> list[float | None]:
    """The smoothed luma each frame is pulled towards; ``None`` for all when no luma is known.

    Frames whose luma is unknown (``None``) take no part in the fits but still get a target from
    their known neighbours, so a worker that measures such a frame's luma can correct it too.
    """
    if window < 3:
        raise ValueError(f"deflicker window must be at least 3 frames, got {window}")
    known = [(i, math.log(max(v, _FLOOR))) for i, v in enumerate(lumas) if v is not None]
    if not known:
        return [None] * len(lumas)
    half = window // 2
    positions = [k for k, _ in known]
    out: list[float | None] = []
    for i in range(len(lumas)):
        # the ``window`` known lumas centred on frame i (shifted inwards at the sequence's ends)
        start = min(max(bisect.bisect_left(positions, i) - half, 0), max(len(known) - window, 0))
        near = known[start : start + window]
        xs = [float(k) for k, _ in near]
        ys = [y for _, y in near]
        reach = max(abs(xs[0] - i), abs(xs[-1] - i)) + 1.0
        # tricube weights: a frame enters and leaves the window with no weight, so the
        # target glides from frame to frame instead of stepping
        ws = [(1 - (abs(x - i) / reach) ** 3) ** 3 for x in xs]
        mx, my, slope = _line(xs, ys, ws)
        for _ in range(_ROBUST_PASSES):
            # bisquare reweighting: frames far off the line (a flash, a headlight) lose weight
            res = [abs(y - my - slope * (x - mx)) for x, y in zip(xs, ys, strict=True)]
            scale = 6 * (sorted(res)[len(res) // 2] or 1e-6)
            robust = [w * max(0.0, 1 - (r / scale) ** 2) ** 2 for w, r in zip(ws, res, strict=True)]
            mx, my, slope = _line(xs, ys, robust)
        fit = my + slope * (i - mx)
        out.append(math.exp(fit))
    return out


def gain_for(
    luma: float | None,
    target: float | None,
    strength: float = DEFAULT_STRENGTH,
    clamp: tuple[float, float] = DEFAULT_CLAMP,
) -> float:
    """The gain that moves ``luma`` ``strength`` of the way to ``target`` (1.0 when either is
    unknown), within ``clamp``."""
    if luma is None or target is None:
        return 1.0
    raw = float((target / max(luma, _FLOOR)) ** strength)
    return min(max(raw, clamp[0]), clamp[1])


def gains(
    lumas: Sequence[float | None],
    window: int = DEFAULT_WINDOW,
    strength: float = DEFAULT_STRENGTH,
    clamp: tuple[float, float] = DEFAULT_CLAMP,
) -> list[float]:
    """Per-frame gains for a time-ordered luma sequence; 1.0 where a frame's luma is unknown."""
    if not 0.0 <= strength <= 1.0:
        raise ValueError(f"deflicker strength must be 0-1, got {strength}")
    if not 0 < clamp[0] <= 1.0 <= clamp[1]:
        raise ValueError(f"deflicker clamp must hold 1.0 (low <= 1 <= high), got {clamp}")
    aims = targets(lumas, window)
    return [gain_for(v, t, strength, clamp) for v, t in zip(lumas, aims, strict=True)]


def measure_luma(image: Image.Image) -> float:
    """Mean luma (0-255) of a decoded image, on a small grey copy (as capture measures it)."""
    factor = max(1, min(image.width, image.height) // _METRIC_SIDE)
    small = image.reduce(factor) if factor > 1 else image
    return float(ImageStat.Stat(small.convert("L")).mean[0])


def apply_gain(image: Image.Image, gain: float) -> Image.Image:
    """``image`` with every colour channel multiplied by ``gain`` (clipped at white); the
    image itself when the gain is 1. Alpha is left alone."""
    if abs(gain - 1.0) < 1e-3:
        return image
    lut = [min(255, round(v * gain)) for v in range(256)]
    if image.mode == "RGBA":
        return image.point(lut * 3 + list(range(256)))
    if image.mode not in ("RGB", "L"):
        image = image.convert("RGB")
    return image.point(lut * len(image.getbands()))
