"""A 4:2:0 JPEG's picture as its three planes (Y at full size, Cb and Cr at half), drawn on
in place: what :mod:`pylapse.imaging.overlay` stamps on when a frame goes through
:mod:`pylapse.imaging.samesize` without ever becoming RGB.

Decoding a 4:2:0 JPEG to its planes skips the chroma upsampling and the YCbCr-to-RGB
conversion, and encoding the planes skips the conversion back and the chroma downsampling:
about 1 ms of a 1080p frame's ~11 ms on one core of the reference machine, nearly all of it in
the encoder (the decoder's time is mostly Huffman decoding either way). The chroma the source
had is written back exactly wherever no overlay is drawn.

An overlay is drawn as it would be on RGB and then subsampled: a solid colour blended through a
mask goes into Y through the mask, and into Cb and Cr through the mask averaged over each 2x2
block (the chroma of a blend of one colour is linear in the mask). The result differs from the
RGB way only where the mask is partly over a block whose chroma varies, by a level or two.
Text overlays (time stamps, text watermarks) are drawn this way; a picture watermark is not
(its frames go the RGB way).
"""

from __future__ import annotations

from functools import lru_cache

from PIL import Image

__all__ = ["Planes", "ycbcr"]


@lru_cache(maxsize=64)
def ycbcr(color: tuple[int, int, int]) -> tuple[int, int, int]:
    """``color`` (RGB) in JPEG's full-range YCbCr, as libjpeg and Pillow convert it."""
    value = Image.new("RGB", (1, 1), color).convert("YCbCr").getpixel((0, 0))
    assert isinstance(value, tuple)
    return value[0], value[1], value[2]


def _view(plane: object, width: int, height: int) -> Image.Image:
    """An L image over ``plane``'s bytes (a C-contiguous uint8 array): drawing on it draws on
    the plane."""
    view = Image.frombuffer("L", (width, height), plane, "raw", "L", 0, 1)  # type: ignore[arg-type]
    # frombuffer marks the view read-only, and Pillow would copy it on the first paste
    view.readonly = 0
    return view


def _halved(mask: Image.Image, xy: tuple[int, int]) -> tuple[Image.Image, tuple[int, int]]:
    """``mask`` placed at ``xy`` on a full-size plane, averaged over the 2x2 blocks of the
    half-size planes: the half-size mask and where it goes on them."""
    x, y = xy
    ox, oy = x & 1, y & 1  # a mask at an odd position starts inside a block
    width, height = mask.width + ox, mask.height + oy
    padded = Image.new("L", (width + (width & 1), height + (height & 1)), 0)
    padded.paste(mask, (ox, oy))
    return padded.reduce(2), ((x - ox) // 2, (y - oy) // 2)


class Planes:
    """The Y, Cb and Cr planes of a 4:2:0 picture of ``size`` (``y`` width x height, ``cb`` and
    ``cr`` each half that, rounded up), with what the overlays draw with."""

    mode = "YCbCr;planes"

    def __init__(self, y: object, cb: object, cr: object, size: tuple[int, int]) -> None:
        self.size = size
        self.width, self.height = size
        half = (-(-size[0] // 2), -(-size[1] // 2))
        self._y = _view(y, *size)
        self._cb = _view(cb, *half)
        self._cr = _view(cr, *half)

    def paste_color(
        self, color: tuple[int, int, int], xy: tuple[int, int], mask: Image.Image
    ) -> None:
        """Blend ``color`` in at ``xy`` through ``mask`` (L, 255 = all colour)."""
        luma, cb, cr = ycbcr(color)
        self._y.paste(luma, xy, mask)
        half, at = _halved(mask, xy)
        self._cb.paste(cb, at, half)
        self._cr.paste(cr, at, half)
