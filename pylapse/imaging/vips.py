"""JPEG decode and downscale through libvips, where pyvips and its library are installed.

Shrinking a 4000x3000 camera JPEG into 1920x1080 on one core of the reference machine: Pillow's
draft decode (DCT scale 1/2) takes ~26 ms and its LANCZOS resize of the 2000x1500 result ~55 ms,
most of a frame's export. libvips decodes at the same DCT scale (shrink-on-load, the same
libjpeg-turbo) and streams the rows through its vectorised lanczos3 reduce: ~35 ms for both,
and the picture matches Pillow's LANCZOS result at ~55 dB PSNR (tests/pylapse/imaging checks a
floor on a real photo). The result is handed back as a Pillow image, so overlays, encoding and
EXIF handling stay Pillow's.

Only the plain case takes this path: an 8-bit three-channel JPEG file shrunk to a size fixed in
advance. Anything else, and any error libvips reports (a truncated file, say), returns None and
the caller decodes with Pillow as before, which also words the error the same way for every
frame. Without pyvips (or without a libvips it can load) everything goes through Pillow.
"""

from __future__ import annotations

import os
import threading
from typing import Any

from PIL import Image

__all__ = ["available", "decode_resized"]

_lock = threading.Lock()
_state: list[Any] = []  # [the pyvips module, or None when it cannot be used], once tried


def _pyvips() -> Any:
    with _lock:
        if not _state:
            try:
                import pyvips  # type: ignore[import-untyped]  # no stubs
            except (ImportError, OSError):  # not installed, or its libvips is missing
                _state.append(None)
            else:
                # a frame is read once: no operation cache to grow in a long export
                pyvips.cache_set_max(0)
                # an export runs a process per core, so each decodes on its own thread
                pyvips.concurrency_set(1)
                _state.append(pyvips)
        return _state[0]


def available() -> bool:
    """Whether frames can be decoded through libvips in this process."""
    return _pyvips() is not None


def _shrink(size: tuple[int, int], need: tuple[int, int]) -> int:
    """The largest JPEG DCT scale-down (8, 4, 2, 1) that still covers ``need``, as Pillow's
    ``draft`` picks it."""
    for factor in (8, 4, 2):
        if -(-size[0] // factor) >= need[0] and -(-size[1] // factor) >= need[1]:
            return factor
    return 1


def decode_resized(
    path: str | os.PathLike[str], size: tuple[int, int], final: tuple[int, int]
) -> Image.Image | None:
    """The JPEG at ``path`` (``size`` as stored) as an RGB image of exactly ``final`` pixels
    (no larger than ``size``, as stored, not turned upright), or None when libvips is missing or
    cannot do it."""
    pyvips = _pyvips()
    if pyvips is None or final[0] > size[0] or final[1] > size[1] or final == size:
        return None
    try:
        image = pyvips.Image.new_from_file(
            os.fspath(path), shrink=_shrink(size, final), access="sequential", fail_on="error"
        )
        if image.bands != 3 or image.format != "uchar":
            return None  # grey, CMYK: Pillow converts them
        scaled = image.resize(final[0] / image.width, vscale=final[1] / image.height)
        if (scaled.width, scaled.height) != final:
            return None
        pixels = scaled.write_to_memory()
    except pyvips.Error:
        return None
    return Image.frombytes("RGB", final, pixels)
