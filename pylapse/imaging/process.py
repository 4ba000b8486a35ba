"""Per-frame pixel work: open (reduced-scale when shrinking), orient, resize, encode.

A 4000x3000 JPEG takes ~4x longer to decode at full size than at half size, and most exports
shrink frames to video size. :func:`open_frame` therefore asks libjpeg for the smallest DCT
scale (1/2, 1/4, 1/8) that still covers the final size (Pillow ``draft``) before decoding, then
applies the EXIF orientation so a rotated phone frame comes out upright. A plain JPEG shrunk in
``fit`` or ``exact`` mode is decoded and resized in one pass by libvips when it is installed
(:mod:`pylapse.imaging.vips`, about twice as fast as Pillow's decode and LANCZOS resize on
camera-sized frames, the same picture); the result then skips :func:`resize_image`.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import BinaryIO

from PIL import ExifTags, Image, ImageOps, UnidentifiedImageError

from pylapse.imaging import decode, vips

__all__ = [
    "FORMATS",
    "ImageError",
    "Resize",
    "ResizeMode",
    "encode",
    "exif_bytes_for",
    "open_frame",
    "output_format",
    "resize_image",
    "target_size",
]

# output extension -> Pillow format name
FORMATS = {"jpg": "JPEG", "jpeg": "JPEG", "png": "PNG", "webp": "WEBP"}
_SWAPS_AXES = {5, 6, 7, 8}  # EXIF orientations that turn the picture by 90 degrees


class ImageError(ValueError):
    """A frame that cannot be read or decoded; the message says why."""


class ResizeMode(StrEnum):
    FIT = "fit"  # as large as possible inside width x height, aspect kept
    EXACT = "exact"  # exactly width x height, stretched if the aspect differs
    FILL = "fill"  # cover width x height keeping aspect, centre-cropped


@dataclass(frozen=True, slots=True)
class Resize:
    """Target size; a missing side follows from the other (aspect kept). Never enlarges in fit."""

    width: int | None = None
    height: int | None = None
    mode: ResizeMode = ResizeMode.FIT

    def __post_init__(self) -> None:
        for side in ("width", "height"):
            value = getattr(self, side)
            if value is not None and value < 1:
                raise ValueError(f"resize {side} must be a positive number of pixels, got {value}")
        if self.mode != ResizeMode.FIT and (self.width is None or self.height is None):
            raise ValueError(f"resize mode {self.mode.value!r} needs both width and height")

    @property
    def active(self) -> bool:
        return self.width is not None or self.height is not None

    def box(self) -> tuple[int, int]:
        """(width, height) of an exact or fill resize (``__post_init__`` made sure of both)."""
        assert self.width is not None and self.height is not None
        return self.width, self.height


def output_format(ext: str) -> str:
    """Pillow format name for an output extension; refuses others with the accepted list."""
    fmt = FORMATS.get(ext.lower().lstrip("."))
    if fmt is None:
        raise ValueError(f"output format {ext!r} is not supported (accepted: jpg, png, webp)")
    return fmt


def target_size(size: tuple[int, int], resize: Resize | None) -> tuple[int, int]:
    """The final (width, height) of an upright ``size`` image after ``resize``."""
    w, h = size
    if resize is None or not resize.active:
        return size
    if resize.mode == ResizeMode.EXACT:
        return resize.box()
    if resize.mode == ResizeMode.FILL:
        return resize.box()
    scale = min(
        resize.width / w if resize.width else float("inf"),
        resize.height / h if resize.height else float("inf"),
        1.0,  # fit never enlarges
    )
    return (max(1, round(w * scale)), max(1, round(h * scale)))


def _decode_size(size: tuple[int, int], resize: Resize | None) -> tuple[int, int]:
    """The smallest upright size the decoder may produce and still give full quality."""
    if resize is None or not resize.active:
        return size
    if resize.mode == ResizeMode.FILL:
        w, h = size
        width, height = resize.box()
        scale = max(width / w, height / h)
        return (max(1, int(w * scale)), max(1, int(h * scale)))
    return target_size(size, resize)


def open_frame(source: str | os.PathLike[str] | bytes, resize: Resize | None = None) -> Image.Image:
    """Decode ``source`` upright in RGB (or RGBA for transparent PNGs), ready for ``resize``.

    Raises :class:`ImageError` naming the problem for missing, empty, truncated or non-image
    files, so a caller can skip the frame and report why.
    """
    name = "<bytes>" if isinstance(source, bytes) else os.fspath(source)
    image: Image.Image  # opened as an ImageFile, then transposed and converted as a plain Image
    try:
        image = decode.open_image(source)  # HEIC and DNG too
    except FileNotFoundError:
        raise ImageError(f"{name}: file not found") from None
    except UnidentifiedImageError:
        raise ImageError(f"{name}: not an image (unrecognised or empty file)") from None
    except (OSError, Image.DecompressionBombError) as exc:
        raise ImageError(f"{name}: cannot be opened: {exc}") from None
    try:
        orientation = image.getexif().get(ExifTags.Base.Orientation, 1)
        if image.format == "JPEG" and resize is not None and resize.active:
            upright = image.size[::-1] if orientation in _SWAPS_AXES else image.size
            need = _decode_size(upright, resize)
            if orientation in _SWAPS_AXES:
                need = need[::-1]
            shrunk = None
            # a JPEG file itself (not a DNG's embedded preview, whose file name is the DNG's)
            # shrunk to a size known now: libvips decodes and resizes it in one pass
            own_file = getattr(image, "filename", "") == name
            if resize.mode != ResizeMode.FILL and image.mode == "RGB" and own_file:
                shrunk = vips.decode_resized(name, image.size, need)
            if shrunk is not None:
                shrunk.info.update(image.info)  # its EXIF (orientation, time) goes along
                image.close()
                image = shrunk
            else:
                image.draft("RGB", need)
        image.load()
        if orientation != 1:
            image = ImageOps.exif_transpose(image)
        if image.mode not in ("RGB", "RGBA"):
            has_alpha = image.mode in ("LA", "PA") or "transparency" in image.info
            image = image.convert("RGBA" if has_alpha else "RGB")
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as exc:
        image.close()
        raise ImageError(f"{name}: cannot be decoded: {exc}") from None
    return image


def resize_image(image: Image.Image, resize: Resize | None) -> Image.Image:
    """``image`` scaled per ``resize`` (the same object when nothing changes)."""
    final = target_size(image.size, resize)
    if resize is None or not resize.active or final == image.size:
        return image
    if resize.mode == ResizeMode.FILL:
        return ImageOps.fit(image, final, Image.Resampling.LANCZOS)
    return image.resize(final, Image.Resampling.LANCZOS, reducing_gap=3.0)


#: The most EXIF a JPEG can hold: one APP1 segment of at most 65535 bytes, less its length
#: field and the "Exif\0\0" header.
JPEG_EXIF_MAX = 65535 - 2 - 6

#: What is kept of an EXIF block too large for a JPEG (a DNG's, with its colour tables and
#: private data): who made the frame, and when.
_KEPT_BASE = (ExifTags.Base.Make, ExifTags.Base.Model, ExifTags.Base.DateTime)
_KEPT_EXIF = (
    ExifTags.Base.DateTimeOriginal,
    ExifTags.Base.OffsetTimeOriginal,
    ExifTags.Base.OffsetTime,
    ExifTags.Base.SubsecTimeOriginal,
    ExifTags.Base.ExposureTime,
    ExifTags.Base.FNumber,
    ExifTags.Base.ISOSpeedRatings,
)


def exif_bytes_for(exif: Image.Exif, fmt: str = "JPEG") -> bytes | None:
    """``exif`` as bytes to write into a frame of format ``fmt``: whole when it fits, else (a
    JPEG, whose EXIF segment holds at most :data:`JPEG_EXIF_MAX` bytes) only the camera and
    its time tags, so a frame from a DNG exports with its time instead of failing."""
    if not len(exif):
        return None
    data = exif.tobytes()
    if fmt.upper() not in ("JPEG", "JPG") or len(data) <= JPEG_EXIF_MAX:
        return data
    slim = Image.Exif()
    for tag in _KEPT_BASE:
        if tag in exif:
            slim[tag] = exif[tag]
    sub = exif.get_ifd(ExifTags.IFD.Exif)
    kept = {tag: sub[tag] for tag in _KEPT_EXIF if tag in sub}
    if kept:
        slim[ExifTags.IFD.Exif] = kept
    data = slim.tobytes()
    return data if len(slim) and len(data) <= JPEG_EXIF_MAX else None


def encode(
    image: Image.Image,
    target: str | os.PathLike[str] | BinaryIO,
    ext: str = "jpg",
    *,
    quality: int = 90,
    optimize: bool = False,
    exif: bytes | None = None,
) -> None:
    """Write ``image`` as ``ext`` (jpg/png/webp) at ``quality`` (1-100, lossy formats)."""
    fmt = output_format(ext)
    if not 1 <= quality <= 100:
        raise ValueError(f"quality must be 1-100, got {quality}")
    params: dict[str, object] = {}
    if fmt == "JPEG":
        if image.mode != "RGB":
            image = image.convert("RGB")
        params = {"quality": quality, "optimize": optimize}
    elif fmt == "WEBP":
        params = {"quality": quality, "method": 6 if optimize else 4}
    else:
        params = {"optimize": optimize, "compress_level": 9 if optimize else 6}
    if exif and fmt in ("JPEG", "WEBP"):
        params["exif"] = exif
    if isinstance(target, str | os.PathLike):
        target = Path(target)
    image.save(target, fmt, **params)
