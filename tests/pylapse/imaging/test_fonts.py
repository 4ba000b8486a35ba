"""The shipped font, system font discovery and the per-process font cache."""

from __future__ import annotations

import shutil

import pytest
from PIL import ImageFont

from pylapse.imaging import fonts


@pytest.fixture
def fresh_discovery():
    fonts.system_fonts.cache_clear()
    yield
    fonts.system_fonts.cache_clear()


def test_default_font_ships_with_its_licence():
    assert fonts.DEFAULT_FONT.is_file()
    licence = fonts.DEFAULT_FONT.parent / "LICENSE"
    assert "Bitstream" in licence.read_text(encoding="utf-8")
    assert fonts.font_path(None) == fonts.DEFAULT_FONT
    assert fonts.font_path("") == fonts.DEFAULT_FONT
    assert fonts.load_font(None, 20).getname()[0] == "DejaVu Sans"


def test_font_is_loaded_once_per_path_and_size():
    first = fonts.load_font(None, 31)
    assert fonts.load_font(None, 31) is first
    assert fonts.load_font(str(fonts.DEFAULT_FONT), 31) is first
    assert fonts.load_font(None, 32) is not first


def test_system_fonts_lists_loadable_files_builtin_first(fresh_discovery):
    found = fonts.system_fonts()
    assert next(iter(found.values())) == fonts.DEFAULT_FONT
    for name, path in list(found.items())[:10]:
        assert path.is_file(), name
        assert path.suffix.lower() in fonts.FONT_SUFFIXES
        ImageFont.truetype(str(path), 12)


def test_discovery_without_fontconfig_scans_font_folders(fresh_discovery, monkeypatch):
    monkeypatch.setattr(shutil, "which", lambda name: None)
    found = fonts.system_fonts()
    others = {n: p for n, p in found.items() if p != fonts.DEFAULT_FONT}
    if not others:
        pytest.skip("no fonts installed under /usr/share/fonts on this machine")
    name, path = next(iter(others.items()))
    assert fonts.font_path(name.upper()) == path  # names match case-insensitively


def test_font_by_name_and_by_file(fresh_discovery, tmp_path):
    others = {n: p for n, p in fonts.system_fonts().items() if p != fonts.DEFAULT_FONT}
    if others:
        name, path = next(iter(others.items()))
        assert fonts.font_path(name.lower()) == path
    copy = tmp_path / "Mine.ttf"
    shutil.copyfile(fonts.DEFAULT_FONT, copy)
    assert fonts.font_path(str(copy)) == copy


def test_bad_fonts_name_the_value(tmp_path):
    with pytest.raises(fonts.FontError, match="does not exist"):
        fonts.font_path(str(tmp_path / "nope.ttf"))
    with pytest.raises(fonts.FontError, match="'No Such Font Family' is neither"):
        fonts.font_path("No Such Font Family")
    broken = tmp_path / "broken.ttf"
    broken.write_bytes(b"not a font")
    with pytest.raises(fonts.FontError, match="cannot be read"):
        fonts.load_font(str(broken), 12)
    with pytest.raises(fonts.FontError, match="at least 1 pixel"):
        fonts.load_font(None, 0)
