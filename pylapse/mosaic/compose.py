"""One output frame of a mosaic: each tile's frame decoded at a reduced scale, cropped to a band
of rows if asked, scaled into its tile keeping its shape, dimmed when stale, labelled, pasted.

JPEGs are decoded by DCT scaling (Pillow's ``draft``) at the smallest of 1/1, 1/2, 1/4, 1/8 that
is still at least the tile's size, so a 16-tile grid of 4K frames decodes each at 1/4 or 1/8 of
the cost of a full decode. A label (the camera's name and its frame's *local* time, from the
track's zone, through the overlay module's stamp) sits in the tile's top-left corner.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import datetime, tzinfo
from enum import StrEnum

from PIL import Image

from pylapse.imaging import fonts
from pylapse.imaging.decode import open_image
from pylapse.imaging.overlay import Anchor, Backdrop, Placement, TimestampOverlay
from pylapse.mosaic.layout import Tile
from pylapse.mosaic.timeline import TileState

__all__ = [
    "Band",
    "Missing",
    "TileArt",
    "compose",
    "decode_tile",
    "label_text",
    "missing_of",
    "parse_band",
]

DIM = 0.4  # brightness of a stale frame in DIM mode
PLACEHOLDER_GREY = (48, 48, 48)
# text height as a share of the *output* height, so a large tile and a small one (a strip, an
# inset) carry labels of one size; at most this share of the tile itself
LABEL_SIZE = 0.03
LABEL_MAX = 0.15
LABEL_MARGIN = 0.03  # of the tile's picture height, off its top and left edges
LABEL_FORMAT = "%Y-%m-%d %H:%M:%S"

Band = tuple[int, int]  # top, bottom (exclusive) rows of the full-size frame


class Missing(StrEnum):
    """What a tile shows with no frame near the instant."""

    DIM = "dim"  # the last frame, dimmed (a placeholder before the first)
    REPEAT = "repeat"  # the last frame as it is (dark before the first)
    DARK = "dark"  # black
    PLACEHOLDER = "placeholder"  # a grey tile saying so


def missing_of(value: str | Missing) -> Missing:
    try:
        return Missing(value)
    except ValueError:
        accepted = ", ".join(m.value for m in Missing)
        raise ValueError(f"missing: {value!r} is not one of {accepted}") from None


def parse_band(text: str) -> Band:
    """``"TOP:BOTTOM"`` rows of the full-size frame (bottom exclusive)."""
    top, sep, bottom = text.partition(":")
    try:
        band = (int(top), int(bottom)) if sep else None
    except ValueError:
        band = None
    if band is None or band[0] < 0 or band[1] <= band[0]:
        raise ValueError(f"band: {text!r} must be TOP:BOTTOM rows with 0 <= TOP < BOTTOM")
    return band


@dataclass(frozen=True, slots=True)
class TileArt:
    """What one tile shows in one output frame."""

    tile: Tile
    image: Image.Image | None  # already scaled to fit the tile (None: nothing to show)
    state: TileState
    label: str | None = None


def _reduced(image: Image.Image, want: tuple[int, int]) -> Image.Image:
    """``image`` decoded at the smallest DCT scale still at least ``want`` (JPEG only)."""
    image.draft("RGB", want)  # a no-op for formats without DCT scaling
    return image.convert("RGB") if image.mode != "RGB" else image


def decode_tile(
    path: str | os.PathLike[str], tile: Tile, band: Band | None = None, *, cover: bool = False
) -> Image.Image:
    """The frame at ``path`` (its ``band`` of rows, full-size numbers) fitted inside ``tile``,
    or with ``cover`` filling it (scaled to cover, the overflow cropped evenly off both sides)."""
    with open_image(path) as image:
        full_w, full_h = image.size
        top, bottom = (0, full_h) if band is None else (min(band[0], full_h - 1),
                                                        min(band[1], full_h))  # fmt: skip
        crop_h = bottom - top
        fit = (max if cover else min)(tile.w / full_w, tile.h / crop_h)
        # the decoded size a fit needs: the band's share of the frame scaled by ``fit``
        want = (max(1, round(full_w * fit)), max(1, round(full_h * fit)))
        reduced = _reduced(image, want)
        scale = reduced.height / full_h
        if band is not None:
            first = round(top * scale)
            reduced = reduced.crop((0, first, reduced.width, max(first + 1, round(bottom * scale))))
        size = (max(1, round(full_w * fit)), max(1, round(crop_h * fit)))
        if cover:
            size = (max(size[0], tile.w), max(size[1], tile.h))
            out = reduced.resize(size, Image.Resampling.BILINEAR, reducing_gap=2.0)
            left, top = (size[0] - tile.w) // 2, (size[1] - tile.h) // 2
            return out.crop((left, top, left + tile.w, top + tile.h))
        size = (min(size[0], tile.w), min(size[1], tile.h))
        out = reduced.resize(size, Image.Resampling.BILINEAR, reducing_gap=2.0)
    return out


def dimmed(image: Image.Image, factor: float = DIM) -> Image.Image:
    lut = [round(v * factor) for v in range(256)] * 3
    return image.point(lut)


def label_text(name: str, utc: float | None, zone: tzinfo, fmt: str = LABEL_FORMAT) -> str:
    """The label of a tile: the input's name and, for a frame, its time in the input's zone."""
    if utc is None:
        return f"{name}  no frame"
    when = datetime.fromtimestamp(utc, zone)
    return f"{name}  {TimestampOverlay(format=fmt).text_for(when)}"


def _stamp(image: Image.Image, text: str, share: float) -> None:
    px = max(6, round(share * image.height))
    # the box: the text and a quarter of its height padded either side, a margin off each edge
    wide = fonts.load_font(None, px).getlength(text) + 0.5 * px
    room = image.width - 2 * round(LABEL_MARGIN * image.height) - 2
    if wide > room:  # a narrow tile: a smaller label rather than a cut one (text scales with px)
        share = max(0.005, share * room / wide)
    overlay = TimestampOverlay(
        format=text.replace("%", "%%"),
        size=share,
        backdrop=Backdrop.BOX,
        placement=Placement(Anchor.TOP_LEFT, margin=LABEL_MARGIN),
    )
    # the stamp's time is not used: the format holds no directive once % is escaped
    overlay.apply(image, datetime.fromtimestamp(0).astimezone())


def _art(art: TileArt, missing: Missing) -> Image.Image | None:
    tile, image, state = art.tile, art.image, art.state
    if image is not None and state is TileState.STALE:
        if missing is Missing.DIM:
            return dimmed(image)
        if missing is Missing.REPEAT:
            return image.copy() if art.label else image
        image = None  # DARK, PLACEHOLDER: the stale frame is not shown
    elif image is not None:
        return image.copy() if art.label else image  # the label draws on it: keep the cache's
    if missing in (Missing.DIM, Missing.PLACEHOLDER):
        return Image.new("RGB", (tile.w, tile.h), PLACEHOLDER_GREY)
    return None


def compose(
    size: tuple[int, int], arts: list[TileArt], missing: Missing | str = Missing.DIM
) -> Image.Image:
    """The output frame: black, each tile's picture centred in its rectangle, in order."""
    missing = missing_of(missing)
    canvas = Image.new("RGB", size, (0, 0, 0))
    for art in arts:
        picture = _art(art, missing)
        if picture is None:
            if art.label:
                picture = Image.new("RGB", (art.tile.w, art.tile.h), (0, 0, 0))
            else:
                continue
        if art.label:
            _stamp(picture, art.label, min(LABEL_MAX, LABEL_SIZE * size[1] / picture.height))
        x = art.tile.x + (art.tile.w - picture.width) // 2
        y = art.tile.y + (art.tile.h - picture.height) // 2
        canvas.paste(picture, (x, y))
    return canvas
