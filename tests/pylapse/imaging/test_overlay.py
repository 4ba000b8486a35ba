"""Timestamp overlays and watermarks, checked by the pixels they change."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from PIL import Image, ImageChops

from pylapse import timeutil
from pylapse.imaging.overlay import (
    Anchor,
    Backdrop,
    Placement,
    TimestampOverlay,
    Watermark,
    place,
)

GREY = (90, 90, 90)


def _blank(size=(640, 480), color=GREY) -> Image.Image:
    return Image.new("RGB", size, color)


def _ink(image: Image.Image, base: Image.Image) -> tuple[int, int, int, int] | None:
    """Bounding box of every pixel the overlay changed (None: nothing changed)."""
    return ImageChops.difference(image, base).getbbox()


def _frame(utc: datetime, offset_hours: float) -> datetime:
    """A frame time as the index returns it: its instant on the fixed offset of its camera."""
    return timeutil.from_utc(utc.timestamp(), int(offset_hours * 3600))


def _stamp(overlay: TimestampOverlay, when: datetime) -> Image.Image:
    image = _blank()
    overlay.apply(image, when)
    return image


_CELLS = {  # anchor -> (column, row) of the 3x3 grid it must stay in
    Anchor.TOP_LEFT: (0, 0),
    Anchor.TOP_CENTER: (1, 0),
    Anchor.TOP_RIGHT: (2, 0),
    Anchor.MIDDLE_LEFT: (0, 1),
    Anchor.CENTER: (1, 1),
    Anchor.MIDDLE_RIGHT: (2, 1),
    Anchor.BOTTOM_LEFT: (0, 2),
    Anchor.BOTTOM_CENTER: (1, 2),
    Anchor.BOTTOM_RIGHT: (2, 2),
}


@pytest.mark.parametrize("anchor", list(Anchor))
def test_text_is_drawn_at_its_anchor_and_nowhere_else(anchor):
    overlay = TimestampOverlay(
        format="%H:%M", size=0.08, backdrop=Backdrop.NONE, placement=Placement(anchor)
    )
    base = _blank()
    image = base.copy()
    box = overlay.apply(image, datetime(2026, 5, 1, 12, 34, tzinfo=UTC))
    ink = _ink(image, base)
    assert ink is not None, "no text was drawn"
    col, row = _CELLS[anchor]
    cell = (col * 640 / 3, row * 480 / 3, (col + 1) * 640 / 3, (row + 1) * 480 / 3)
    assert cell[0] <= ink[0] and ink[2] <= cell[2], f"{anchor}: {ink} outside columns of {cell}"
    assert cell[1] <= ink[1] and ink[3] <= cell[3], f"{anchor}: {ink} outside rows of {cell}"
    # every changed pixel lies inside the box the overlay reports
    assert box[0] <= ink[0] and box[1] <= ink[1] and ink[2] <= box[2] and ink[3] <= box[3]


def test_offset_moves_inward_from_the_anchored_edges():
    when = datetime(2026, 5, 1, 12, 34, tzinfo=UTC)
    boxes = {}
    for anchor in (Anchor.TOP_LEFT, Anchor.BOTTOM_RIGHT):
        for offset in ((0, 0), (30, 20)):
            overlay = TimestampOverlay(
                backdrop=Backdrop.NONE, placement=Placement(anchor, offset, margin=0.0)
            )
            base = _blank()
            image = base.copy()
            overlay.apply(image, when)
            boxes[anchor, offset] = _ink(image, base)
    tl0, tl1 = boxes[Anchor.TOP_LEFT, (0, 0)], boxes[Anchor.TOP_LEFT, (30, 20)]
    assert (tl1[0] - tl0[0], tl1[1] - tl0[1]) == (30, 20)
    br0, br1 = boxes[Anchor.BOTTOM_RIGHT, (0, 0)], boxes[Anchor.BOTTOM_RIGHT, (30, 20)]
    assert (br0[2] - br1[2], br0[3] - br1[3]) == (30, 20)
    assert br0[2] == 640 and br0[3] <= 480


def test_text_size_follows_image_height():
    overlay = TimestampOverlay(format="0000", size=0.1, backdrop=Backdrop.NONE)
    heights = []
    for size in ((640, 480), (1280, 960)):
        base = _blank(size)
        image = base.copy()
        overlay.apply(image, datetime(2026, 1, 1, tzinfo=UTC))
        ink = _ink(image, base)
        heights.append(ink[3] - ink[1])
    assert abs(heights[1] - 2 * heights[0]) <= 2


def test_place_covers_the_grid():
    assert place((100, 80), (10, 8), Placement(Anchor.TOP_LEFT, margin=0)) == (0, 0)
    assert place((100, 80), (10, 8), Placement(Anchor.BOTTOM_RIGHT, margin=0)) == (90, 72)
    assert place((100, 80), (10, 8), Placement(Anchor.CENTER, (5, -5), margin=0)) == (50, 31)


# --- the stamped time across DST, in the source zone and in a display zone -------------------

# 2026-03-08 10:00 UTC is when Los Angeles goes from PST (-8) to PDT (-7); Tokyo stays +9.
_SPRING = [datetime(2026, 3, 8, 9, 30, tzinfo=UTC), datetime(2026, 3, 8, 10, 30, tzinfo=UTC)]
# 2026-11-01 09:00 UTC: back from PDT to PST; 01:30 happens twice in Los Angeles.
_AUTUMN = [datetime(2026, 11, 1, 8, 30, tzinfo=UTC), datetime(2026, 11, 1, 9, 30, tzinfo=UTC)]
_FMT = "%Y-%m-%d %H:%M %Z"


def test_tokyo_frames_stamped_in_los_angeles_time_across_the_spring_change():
    frames = [_frame(t, 9) for t in _SPRING]  # a camera in Asia/Tokyo
    overlay = TimestampOverlay(format=_FMT, display_timezone="America/Los_Angeles")
    assert [overlay.text_for(f) for f in frames] == [
        "2026-03-08 01:30 PST",
        "2026-03-08 03:30 PDT",  # one hour later, and the clock jumped: 02:xx never existed
    ]
    own = TimestampOverlay(format="%Y-%m-%d %H:%M")
    assert [own.text_for(f) for f in frames] == ["2026-03-08 18:30", "2026-03-08 19:30"]


def test_los_angeles_frames_stamped_in_tokyo_time_and_their_own():
    frames = [_frame(_SPRING[0], -8), _frame(_SPRING[1], -7)]  # a camera in Los Angeles
    tokyo = TimestampOverlay(format=_FMT, display_timezone="Asia/Tokyo")
    assert [tokyo.text_for(f) for f in frames] == ["2026-03-08 18:30 JST", "2026-03-08 19:30 JST"]
    own = TimestampOverlay(format="%H:%M")
    assert [own.text_for(f) for f in frames] == ["01:30", "03:30"]


def test_repeated_autumn_hour_is_stamped_with_the_right_abbreviation():
    frames = [_frame(t, 9) for t in _AUTUMN]
    overlay = TimestampOverlay(format=_FMT, display_timezone="America/Los_Angeles")
    assert [overlay.text_for(f) for f in frames] == [
        "2026-11-01 01:30 PDT",
        "2026-11-01 01:30 PST",
    ]


def test_stamped_pixels_are_exactly_the_expected_string():
    """The image carries the converted time: identical to rendering the expected text."""
    overlay = TimestampOverlay(format=_FMT, display_timezone="America/Los_Angeles", size=0.06)
    for utc, expected in zip(
        _SPRING, ["2026-03-08 01:30 PST", "2026-03-08 03:30 PDT"], strict=True
    ):
        stamped = _stamp(overlay, _frame(utc, 9))
        literal = TimestampOverlay(format=expected, size=0.06)  # no % codes: drawn as is
        reference = _stamp(literal, datetime(2000, 1, 1, tzinfo=UTC))
        assert _ink(stamped, reference) is None, f"{expected} differs from what was stamped"
        wrong = expected.replace("01:30", "02:30").replace("03:30", "02:30")
        assert _ink(stamped, _stamp(TimestampOverlay(format=wrong, size=0.06), utc)) is not None


def test_naive_time_is_refused():
    with pytest.raises(ValueError, match="naive"):
        TimestampOverlay().text_for(datetime(2026, 1, 1))


# --- readability on a bright sky -----------------------------------------------------------------


def test_outline_makes_white_text_visible_on_white_sky():
    when = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)
    white = _blank(color=(255, 255, 255))
    plain = white.copy()
    TimestampOverlay(backdrop=Backdrop.NONE).apply(plain, when)
    assert _ink(plain, white) is None  # invisible without a backdrop
    outlined = white.copy()
    box = TimestampOverlay(backdrop=Backdrop.OUTLINE).apply(outlined, when)
    region = outlined.crop(box).convert("L")
    assert region.getextrema()[0] < 30  # dark outline pixels around the glyphs
    assert _ink(outlined, white) is not None


def test_box_backdrop_is_translucent():
    base = _blank(color=(200, 200, 200))
    image = base.copy()
    box = TimestampOverlay(backdrop=Backdrop.BOX, box_opacity=0.5).apply(
        image, datetime(2026, 5, 1, tzinfo=UTC)
    )
    corner = image.getpixel((box[0] + 1, box[1] + 1))  # inside the box, off the glyphs
    assert all(95 <= c <= 105 for c in corner), corner  # 50 % black over 200 grey
    assert image.getpixel((box[0] - 2, box[1] - 2)) == (200, 200, 200)


# --- watermarks ---------------------------------------------------------------------------------


def test_text_watermark_opacity():
    base = _blank(color=(0, 0, 0))
    image = base.copy()
    box = Watermark(text="pyLapse", opacity=0.5, size=0.1).apply(image)
    brightest = image.crop(box).convert("L").getextrema()[1]
    assert 120 <= brightest <= 135
    ink = _ink(image, base)
    assert ink[0] < 640 / 3 and ink[1] > 480 * 2 / 3  # default anchor: bottom-left


def test_png_watermark_with_opacity_at_its_anchor(tmp_path):
    logo = tmp_path / "logo.png"
    mark = Image.new("RGBA", (40, 20), (255, 0, 0, 255))
    mark.paste((0, 0, 0, 0), (0, 0, 20, 20))  # left half fully transparent
    mark.save(logo)
    base = _blank(color=(0, 0, 0))
    image = base.copy()
    box = Watermark(
        image=str(logo), opacity=0.5, size=0.1, placement=Placement(Anchor.TOP_RIGHT)
    ).apply(image)
    assert box[3] - box[1] == 48 and box[2] - box[0] == 96  # 10 % of 480, aspect kept
    assert box[2] == 640 - round(0.02 * 480)
    r, g, b = image.getpixel((box[2] - 10, box[1] + 24))
    assert 120 <= r <= 135 and g == 0 and b == 0
    assert image.getpixel((box[0] + 10, box[1] + 24)) == (0, 0, 0)  # transparent part


# --- bad settings name the value and what is accepted ----------------------------------------


def test_bad_settings_are_refused_with_the_accepted_values(tmp_path):
    with pytest.raises(ValueError, match="anchor 'upper-left' is not one of: top-left"):
        Placement("upper-left")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="colour 'blurple' is not understood"):
        TimestampOverlay(color="blurple")
    with pytest.raises(ValueError, match="Mars/Olympus"):
        TimestampOverlay(display_timezone="Mars/Olympus")
    with pytest.raises(ValueError, match="backdrop 'glow' is not one of"):
        TimestampOverlay(backdrop="glow")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="exactly one of"):
        Watermark()
    with pytest.raises(ValueError, match="does not exist"):
        Watermark(image=str(tmp_path / "missing.png"))


@pytest.mark.parametrize("fmt", ["%Y-%m-%d %H:%M", "%d.%m.%Y %H:%M:%S", "%y/%m/%d, %H.%M"])
@pytest.mark.parametrize("px", [6, 20, 43, 130])
def test_a_stamp_put_together_from_cached_glyphs_is_freetypes_whole_text(fmt, px):
    """Time stamps are drawn from glyphs rendered once per worker; the masks must be pixel for
    pixel those ImageDraw renders for the whole text (kerning, outlines reaching into the
    neighbouring glyph, the space, sizes down to the smallest)."""
    from pylapse.imaging import overlay

    texts = {
        datetime(2026, m, d, h, mi, s, tzinfo=UTC).strftime(fmt)
        for m, d, h, mi, s in [
            (1, 1, 0, 0, 0),
            (7, 17, 11, 47, 1),
            (12, 31, 23, 59, 59),
            (10, 20, 14, 7, 41),
            (4, 4, 4, 44, 14),
        ]
    }
    for text in texts:
        for stroke in (0, max(1, round(px / 12))):
            glyphwise = overlay._glyphwise_mask(text, None, px, stroke)
            whole = overlay._render(text, None, px, stroke)
            for ours, theirs in zip(glyphwise, whole, strict=True):
                assert ours.size == theirs.size, (text, px, stroke)
                assert ImageChops.difference(ours, theirs).getbbox() is None, (text, px, stroke)
