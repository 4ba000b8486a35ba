"""Timestamp overlays and watermarks, placed by one anchor model.

An overlay sits at one of nine anchors (``top-left`` ... ``bottom-right``), ``margin`` (a
fraction of the image height, so it looks the same at every output size) away from the edges,
then moved by ``offset`` pixels *inward* (away from the anchored edges; for centred axes, plain
right/down). Text size is a fraction of the image height for the same reason.

The stamped time is the frame's own instant: a frame taken in Tokyo and stamped in Los Angeles
time is converted with the offset Los Angeles had at that instant, so frames either side of a
DST change read right.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from functools import lru_cache

from PIL import Image, ImageColor, ImageDraw

from pylapse import timeutil
from pylapse.imaging import fonts
from pylapse.imaging.planes import Planes

__all__ = [
    "Anchor",
    "Backdrop",
    "Box",
    "Placement",
    "TimestampOverlay",
    "Watermark",
    "parse_color",
    "place",
]

Box = tuple[int, int, int, int]  # left, top, right (exclusive), bottom (exclusive)


class Anchor(StrEnum):
    TOP_LEFT = "top-left"
    TOP_CENTER = "top-center"
    TOP_RIGHT = "top-right"
    MIDDLE_LEFT = "middle-left"
    CENTER = "center"
    MIDDLE_RIGHT = "middle-right"
    BOTTOM_LEFT = "bottom-left"
    BOTTOM_CENTER = "bottom-center"
    BOTTOM_RIGHT = "bottom-right"


class Backdrop(StrEnum):
    """What keeps text readable on a bright sky."""

    NONE = "none"
    OUTLINE = "outline"  # a dark stroke around each glyph
    BOX = "box"  # a translucent rectangle behind the text


def parse_color(value: str, what: str = "colour") -> tuple[int, int, int]:
    """``#rrggbb``, ``#rgb``, ``rgb(r,g,b)`` or a CSS name as an RGB tuple, else a clear error."""
    try:
        rgb = ImageColor.getrgb(value)
    except (ValueError, AttributeError):
        raise ValueError(
            f"{what} {value!r} is not understood (accepted: #rrggbb, #rgb, rgb(r,g,b) or a "
            "name such as white, black, yellow)"
        ) from None
    return rgb[:3]


def _check_fraction(value: float, what: str, low: float = 0.0, high: float = 1.0) -> None:
    if not low <= value <= high:
        raise ValueError(f"{what} must be between {low} and {high}, got {value}")


@dataclass(frozen=True, slots=True)
class Placement:
    anchor: Anchor = Anchor.BOTTOM_RIGHT
    offset: tuple[int, int] = (0, 0)  # pixels, inward from the anchored edges
    margin: float = 0.02  # fraction of the image height between overlay and edges

    def __post_init__(self) -> None:
        object.__setattr__(self, "anchor", _anchor(self.anchor))
        _check_fraction(self.margin, "margin", 0.0, 0.5)


def _anchor(value: str) -> Anchor:
    try:
        return Anchor(value)
    except ValueError:
        accepted = ", ".join(a.value for a in Anchor)
        raise ValueError(f"anchor {value!r} is not one of: {accepted}") from None


def place(
    image_size: tuple[int, int], box_size: tuple[int, int], where: Placement
) -> tuple[int, int]:
    """Top-left corner of a ``box_size`` box put at ``where`` on an ``image_size`` image."""
    iw, ih = image_size
    bw, bh = box_size
    margin = round(where.margin * ih)
    dx, dy = where.offset
    vertical, _, horizontal = where.anchor.value.partition("-")
    if where.anchor == Anchor.CENTER:
        vertical, horizontal = "middle", "center"
    if horizontal == "left":
        x = margin + dx
    elif horizontal == "right":
        x = iw - bw - margin - dx
    else:
        x = (iw - bw) // 2 + dx
    if vertical == "top":
        y = margin + dy
    elif vertical == "bottom":
        y = ih - bh - margin - dy
    else:
        y = (ih - bh) // 2 + dy
    return x, y


#: Characters a stamp is put together from glyph by glyph (what time formats print): each glyph
#: is drawn once per worker and placed where pair kerning puts it; these have no ligatures or
#: marks, so the text comes out as FreeType lays it out whole (tests compare the two).
_GLYPHWISE = frozenset("0123456789 :-./,+")


def _render(
    text: str, font_spec: str | None, px: int, stroke: int
) -> tuple[Image.Image, Image.Image]:
    """(fill, outer): ``text``'s fill mask and its stroked-and-filled mask (the fill again
    without a stroke), drawn whole by ImageDraw and cropped to the ink."""
    font = fonts.load_font(font_spec, px)
    left, top, right, bottom = font.getbbox(text, stroke_width=stroke)
    # typed as floats (a layout engine may place ink between pixels); FreeType's are whole pixels
    size = (max(1, math.ceil(right - left)), max(1, math.ceil(bottom - top)))
    fill = Image.new("L", size, 0)
    ImageDraw.Draw(fill).text((-left, -top), text, font=font, fill=255)
    if not stroke:
        return fill, fill
    outer = Image.new("L", size, 0)
    ImageDraw.Draw(outer).text(
        (-left, -top), text, font=font, fill=255, stroke_width=stroke, stroke_fill=255
    )
    return fill, outer


@lru_cache(maxsize=1024)
def _glyph(
    char: str, font_spec: str | None, px: int, stroke: int
) -> tuple[Image.Image, Image.Image, tuple[int, int], tuple[int, int]] | None:
    """``char``'s fill and outer masks and where each starts from the pen; None without ink."""
    font = fonts.load_font(font_spec, px)
    plain, stroked = font.getbbox(char), font.getbbox(char, stroke_width=stroke)
    if plain[2] <= plain[0] or plain[3] <= plain[1]:
        return None  # a space
    fill = _render(char, font_spec, px, 0)[0]
    outer = _render(char, font_spec, px, stroke)[1] if stroke else fill
    return fill, outer, (int(plain[0]), int(plain[1])), (int(stroked[0]), int(stroked[1]))


@lru_cache(maxsize=4096)
def _advance(pair: str, font_spec: str | None, px: int) -> float:
    """How far the pen moves past ``pair[0]`` when ``pair[1]`` follows (kerning included)."""
    font = fonts.load_font(font_spec, px)
    return font.getlength(pair) - font.getlength(pair[1])


#: the characters at a stamp's end laid glyph by glyph on every new text; those before them
#: (the date and hour of a minute's stamp) are laid once per head, onto masks of their own
_TAIL = 2


def _lay(
    text: str,
    start: int,
    pen: float,
    masks: tuple[Image.Image, Image.Image],
    origin: tuple[int, int],
    font_spec: str | None,
    px: int,
    stroke: int,
) -> float:
    """Paste ``text[start:]``'s glyphs into ``masks`` (fill, outer), the first at ``pen``, with
    the pen origin at ``-origin`` on them; returns the pen of the last glyph."""
    fill, outer = masks
    for i in range(start, len(text)):
        glyph = _glyph(text[i], font_spec, px, stroke)
        if glyph is not None:
            g_fill, g_outer, (fx, fy), (sx, sy) = glyph
            x = math.floor(pen + 0.5)  # FreeType's pixel for a 26.6 pen position
            # pasting white through a glyph's mask blends it over what is there, as FreeType's
            # renderer lays overlapping glyphs (an outline reaches into its neighbour's)
            fill.paste(255, (x + fx - origin[0], fy - origin[1]), g_fill)
            if stroke:
                outer.paste(255, (x + sx - origin[0], sy - origin[1]), g_outer)
        if i + 1 < len(text):
            pen += _advance(text[i : i + 2], font_spec, px)
    return pen


def _blank(size: tuple[int, int], stroke: int) -> tuple[Image.Image, Image.Image]:
    fill = Image.new("L", size, 0)
    return fill, (Image.new("L", size, 0) if stroke else fill)


@lru_cache(maxsize=64)
def _head(
    text: str, font_spec: str | None, px: int, stroke: int
) -> tuple[Image.Image, Image.Image, tuple[int, int], float]:
    """``text`` laid glyph by glyph onto masks of its own: (fill, outer, where the masks' top
    left is from the pen origin, the pen of its last glyph). The masks reach ``stroke`` + 2
    pixels past the ink box on every side (blank), so no glyph is cut."""
    font = fonts.load_font(font_spec, px)
    left, top, right, bottom = font.getbbox(text, stroke_width=stroke)
    pad = stroke + 2
    origin = (int(left) - pad, int(top) - pad)
    size = (math.ceil(right - left) + 2 * pad, math.ceil(bottom - top) + 2 * pad)
    masks = _blank(size, stroke)
    pen = _lay(text, 0, 0.0, masks, origin, font_spec, px, stroke)
    return masks[0], masks[1], origin, pen


def _glyphwise_mask(
    text: str, font_spec: str | None, px: int, stroke: int
) -> tuple[Image.Image, Image.Image]:
    """:func:`_text_mask` put together from cached glyphs; for texts of :data:`_GLYPHWISE`.
    The text's head comes from :func:`_head` in one paste (onto blank masks it gives the same
    pixels as its glyphs pasted one by one), then the last :data:`_TAIL` glyphs are laid."""
    font = fonts.load_font(font_spec, px)
    left, top, right, bottom = font.getbbox(text, stroke_width=stroke)
    size = (max(1, math.ceil(right - left)), max(1, math.ceil(bottom - top)))
    masks = _blank(size, stroke)
    origin = (int(left), int(top))
    start, pen = 0, 0.0
    if len(text) > _TAIL + 1:
        start = len(text) - _TAIL
        h_fill, h_outer, (hx, hy), pen = _head(text[:start], font_spec, px, stroke)
        masks[0].paste(255, (hx - origin[0], hy - origin[1]), h_fill)
        if stroke:
            masks[1].paste(255, (hx - origin[0], hy - origin[1]), h_outer)
        pen += _advance(text[start - 1 : start + 1], font_spec, px)
    _lay(text, start, pen, masks, origin, font_spec, px, stroke)
    return masks


@lru_cache(maxsize=32)
def _text_mask(
    text: str, font_spec: str | None, px: int, stroke: int
) -> tuple[Image.Image, Image.Image]:
    """(fill mask, stroke mask) of ``text`` as L images cropped to the ink. Cached (and only
    read by callers): frames taken seconds apart share a minute's stamp, and a watermark's
    text is the same on every frame, so each is rendered once per worker instead of per frame.
    A time stamp is put together from cached glyphs and its cached head (~0.05 ms instead of
    ~0.6 ms to render a 1080p frame's stamp with its outline, most of it FreeType's stroker)."""
    if _GLYPHWISE.issuperset(text):
        return _glyphwise_mask(text, font_spec, px, stroke)
    return _render(text, font_spec, px, stroke)


#: What overlays draw on: a Pillow image (RGB, RGBA, RGBX) or a 4:2:0 frame's planes
Canvas = Image.Image | Planes


def _paste_color(
    image: Canvas,
    color: tuple[int, int, int],
    xy: tuple[int, int],
    mask: Image.Image,
    opacity: float,
) -> None:
    if opacity < 1.0:
        mask = mask.point(lambda v: round(v * opacity))
    if isinstance(image, Planes):
        image.paste_color(color, xy, mask)
        return
    solid = Image.new(image.mode, mask.size, color if image.mode == "RGB" else (*color, 255))
    image.paste(solid, xy, mask)


def _draw_box(image: Canvas, box: Box, color: tuple[int, int, int], opacity: float) -> None:
    box = (max(0, box[0]), max(0, box[1]), min(image.width, box[2]), min(image.height, box[3]))
    if box[2] <= box[0] or box[3] <= box[1]:
        return
    mask = Image.new("L", (box[2] - box[0], box[3] - box[1]), round(255 * opacity))
    _paste_color(image, color, box[:2], mask, 1.0)


def _draw_text(
    image: Canvas,
    text: str,
    *,
    font: str | None,
    size: float,
    color: tuple[int, int, int],
    backdrop: Backdrop,
    backdrop_color: tuple[int, int, int],
    box_opacity: float,
    opacity: float,
    where: Placement,
) -> Box:
    px = max(6, round(size * image.height))
    stroke = max(1, round(px / 12)) if backdrop == Backdrop.OUTLINE else 0
    fill, outer = _text_mask(text, font, px, stroke)
    pad = round(px * 0.25) if backdrop == Backdrop.BOX else 0
    w, h = fill.width + 2 * pad, fill.height + 2 * pad
    x, y = place(image.size, (w, h), where)
    if backdrop == Backdrop.BOX:
        _draw_box(image, (x, y, x + w, y + h), backdrop_color, box_opacity * opacity)
    elif backdrop == Backdrop.OUTLINE:
        _paste_color(image, backdrop_color, (x, y), outer, opacity)
    _paste_color(image, color, (x + pad, y + pad), fill, opacity)
    return (x, y, x + w, y + h)


@dataclass(frozen=True, slots=True)
class TimestampOverlay:
    """The frame's time stamped on it."""

    format: str = "%Y-%m-%d %H:%M"
    font: str | None = None  # None: built-in; a system font name or a font file path
    size: float = 0.04  # text height as a fraction of the image height
    color: str = "#ffffff"
    backdrop: Backdrop = Backdrop.OUTLINE
    backdrop_color: str = "#000000"
    box_opacity: float = 0.5
    placement: Placement = Placement()
    display_timezone: str | None = None  # None: the frame's own wall clock

    def __post_init__(self) -> None:
        if not self.format:
            raise ValueError("timestamp format must not be empty (e.g. '%Y-%m-%d %H:%M')")
        _check_fraction(self.size, "timestamp size", 0.005, 0.5)
        _check_fraction(self.box_opacity, "box opacity")
        parse_color(self.color, "timestamp colour")
        parse_color(self.backdrop_color, "timestamp backdrop colour")
        object.__setattr__(self, "backdrop", _backdrop(self.backdrop))
        if self.display_timezone:
            timeutil.zone(self.display_timezone)  # raises ZoneError naming the value

    def text_for(self, when: datetime) -> str:
        """The stamp for a frame taken at ``when`` (aware), in the display zone if one is set."""
        if when.tzinfo is None:
            raise ValueError(f"{when!r} is naive; a frame time must carry its UTC offset")
        if self.display_timezone:
            when = when.astimezone(timeutil.zone(self.display_timezone))
        return when.strftime(self.format)

    def apply(self, image: Canvas, when: datetime) -> Box:
        """Draw the stamp on ``image`` in place; returns the box it covers."""
        return _draw_text(
            image,
            self.text_for(when),
            font=self.font,
            size=self.size,
            color=parse_color(self.color),
            backdrop=self.backdrop,
            backdrop_color=parse_color(self.backdrop_color),
            box_opacity=self.box_opacity,
            opacity=1.0,
            where=self.placement,
        )


def _backdrop(value: str) -> Backdrop:
    try:
        return Backdrop(value)
    except ValueError:
        accepted = ", ".join(b.value for b in Backdrop)
        raise ValueError(f"backdrop {value!r} is not one of: {accepted}") from None


@lru_cache(maxsize=8)
def _watermark_image(path: str, height: int, mtime: float) -> Image.Image:
    """The watermark PNG scaled to ``height`` (cached per process; ``mtime`` busts the cache)."""
    with Image.open(path) as src:
        mark = src.convert("RGBA")
    scale = height / mark.height
    return mark.resize((max(1, round(mark.width * scale)), height), Image.Resampling.LANCZOS)


@dataclass(frozen=True, slots=True)
class Watermark:
    """A fixed text or a PNG (its own transparency kept) drawn at ``opacity``."""

    text: str | None = None
    image: str | None = None  # path of a PNG
    opacity: float = 0.5
    size: float = 0.05  # text height, or PNG height, as a fraction of the image height
    font: str | None = None
    color: str = "#ffffff"
    placement: Placement = Placement(anchor=Anchor.BOTTOM_LEFT)

    def __post_init__(self) -> None:
        if bool(self.text) == bool(self.image):
            raise ValueError("a watermark needs exactly one of 'text' or 'image' (a PNG file)")
        _check_fraction(self.opacity, "watermark opacity")
        _check_fraction(self.size, "watermark size", 0.005, 1.0)
        parse_color(self.color, "watermark colour")
        if self.image and not os.path.isfile(self.image):
            raise ValueError(f"watermark image {self.image!r} does not exist")
        if self.image:
            try:
                with Image.open(self.image) as mark:
                    mark.verify()  # a file that is not an image fails now, not on every frame
            except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as exc:
                raise ValueError(
                    f"watermark image {self.image!r} is not a readable image: {exc}"
                ) from None

    def apply(self, image: Canvas) -> Box:
        """Draw the watermark on ``image`` in place (a picture watermark on a Pillow image
        only); returns the box it covers."""
        if self.text:
            return _draw_text(
                image,
                self.text,
                font=self.font,
                size=self.size,
                color=parse_color(self.color),
                backdrop=Backdrop.NONE,
                backdrop_color=(0, 0, 0),
                box_opacity=0.0,
                opacity=self.opacity,
                where=self.placement,
            )
        assert self.image is not None
        if isinstance(image, Planes):
            raise TypeError("a picture watermark is drawn on a Pillow image, not on planes")
        height = max(1, round(self.size * image.height))
        try:
            mark = _watermark_image(self.image, height, os.path.getmtime(self.image))
        except OSError as exc:
            raise ValueError(f"watermark image {self.image!r} cannot be read: {exc}") from None
        alpha = mark.getchannel("A")
        if self.opacity < 1.0:
            alpha = alpha.point(lambda v: round(v * self.opacity))
        x, y = place(image.size, mark.size, self.placement)
        image.paste(mark.convert(image.mode), (x, y), alpha)
        return (x, y, x + mark.width, y + mark.height)
