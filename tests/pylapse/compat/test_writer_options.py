"""pyLapse 0.2's writer options as today's export options (pylapse.export.options.from_v02) and
0.2's defaults on the compat path (pylapse.compat.engine.v02_options)."""

from __future__ import annotations

import pytest

from pylapse.compat.engine import v02_options
from pylapse.export.options import ExportOptions, from_v02


def test_resize_keeps_the_aspect_unless_told_and_a_resolution_alone_resizes():
    assert from_v02({"resize": True}) == {"width": 1920, "height": 1080, "resize_mode": "fit"}
    assert from_v02({"resize": True, "resolution": (640, 480), "keep_aspect": False}) == {
        "width": 640,
        "height": 480,
        "resize_mode": "exact",
    }
    assert from_v02({"resolution": (800, 600)})["width"] == 800  # 0.2's writer resized by default
    assert from_v02({"resize": False, "resolution": (800, 600)}) == {"width": None, "height": None}
    assert from_v02({}) == {}
    assert from_v02({"resize": None, "quality": None}) == {}  # None: not given, as in 0.2


def test_stamp_options_map_onto_the_overlay():
    fields = from_v02(
        {
            "timestampformat": "%H:%M",
            "timestampfontsize": 54,
            "timestampcolor": (255, 128, 0),
            "timestamppos": (12, 30),
            "timestampfont": "/fonts/Roboto.ttf",
            "timestamp_display_tz": "Asia/Tokyo",
            "zeropadding": 5,
        }
    )
    assert fields == {
        "timestamp_format": "%H:%M",
        "font_size": 0.05,  # 54 px of a 1080-pixel frame
        "font_color": "#ff8000",
        "anchor": "top-left",
        "offset_x": 12,
        "offset_y": 30,
        "margin": 0.0,
        "font": "/fonts/Roboto.ttf",
        "display_timezone": "Asia/Tokyo",
        "zeropadding": 5,
    }
    assert from_v02({"timestampcolor": "white"})["font_color"] == "white"
    assert "timestamp_format" not in from_v02({"timestampformat": ""})  # empty: the default


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ({"timestampcolor": (300, 0, 0)}, "0-255"),
        ({"timestampcolor": (1, 2)}, r"\(r, g, b\)"),
        ({"timestamppos": "top"}, r"\(x, y\)"),
        ({"resolution": (1920,)}, r"\(width, height\)"),
    ],
)
def test_bad_values_name_the_option(args, message):
    with pytest.raises(ValueError, match=message):
        from_v02(args)


def test_unknown_names_are_refused_with_the_accepted_ones():
    with pytest.raises(TypeError, match=r"unknown 0.2 writer option.*drawtimestmp.*resize"):
        from_v02({"drawtimestmp": True})
    with pytest.raises(TypeError, match=r"drawtimestmp.*accepted: .*timestampformat"):
        ExportOptions.from_mapping({}, drawtimestmp=True)


def test_today_names_win_over_02_names_given_beside_them():
    options = ExportOptions.from_mapping({}, resize=True, width=640, quality=50)
    assert (options.width, options.height, options.quality) == (640, 1080, 50)


def test_02_defaults_on_the_compat_path(tmp_path):
    options = v02_options({}, tmp_path / "Day")
    assert (options.width, options.height, options.resize_mode) == (1920, 1080, "fit")
    assert (options.quality, options.zeropadding, options.ext) == (50, 5, "jpg")
    assert options.prefix == "Day "  # no prefix: the folder's name, then a space
    assert options.names(3).name(1) == "Day 00001.jpg"
    assert options.timestamp_format == "%Y-%m-%d %I:%M:%S %p"
    assert (options.anchor, options.offset_x, options.margin, options.backdrop) == (
        "top-left",
        0,
        0.0,
        "none",
    )
    assert options.font_size == pytest.approx(36 / 1080)
    given = v02_options({"prefix": "Cam", "resize": False, "workers": 1}, tmp_path, "ignored")
    assert (given.prefix, given.width, given.workers) == ("Cam ", None, 1)
    assert v02_options({}, tmp_path, "Preset").prefix == "Preset "
    zoned = v02_options({"timestamp_display_tz": "Asia/Tokyo"}, tmp_path)
    assert zoned.timestamp_format.endswith(" %Z") and zoned.display_timezone == "Asia/Tokyo"
