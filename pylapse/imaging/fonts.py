"""Fonts for overlays: the one shipped in the package, the system's, or a font file.

The default font (DejaVu Sans, licence in ``fonts/LICENSE``) ships inside the package so an
export looks the same on a bare Pi as on a desktop. Loading a TrueType font costs a few
milliseconds, which matters at thousands of frames, so each (path, size) is loaded once per
process and kept.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from functools import cache, lru_cache
from pathlib import Path

from PIL import ImageFont

__all__ = [
    "DEFAULT_FONT",
    "FONT_SUFFIXES",
    "FontError",
    "font_path",
    "load_font",
    "system_fonts",
]

DEFAULT_FONT = Path(__file__).resolve().parent / "fonts" / "DejaVuSans.ttf"
DEFAULT_FONT_NAME = "DejaVu Sans (built in)"
FONT_SUFFIXES = (".ttf", ".otf", ".ttc")
_FONT_DIRS = ("/usr/share/fonts", "/usr/local/share/fonts", "~/.local/share/fonts", "~/.fonts")


class FontError(ValueError):
    """A font that cannot be found or read; the message says what is accepted."""


def _family_name(path: Path) -> str:
    """``Family Style`` from the file itself (``Regular`` dropped), else the file stem."""
    try:
        family, style = ImageFont.truetype(str(path), 10).getname()
    except OSError:
        return path.stem
    family = family or path.stem
    return family if not style or style == "Regular" else f"{family} {style}"


def _from_fc_list(exe: str) -> dict[str, Path]:
    try:
        out = subprocess.run(
            [exe, "--format", "%{family[0]}\t%{style[0]}\t%{file}\n"],
            capture_output=True,
            text=True,
            timeout=20,
            check=True,
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return {}
    found: dict[str, Path] = {}
    for line in out.splitlines():
        parts = line.split("\t")
        if len(parts) != 3 or not parts[2].lower().endswith(FONT_SUFFIXES):
            continue  # Type 1 and bitmap fonts are not loadable by FreeType through Pillow
        family, style, file = parts
        name = family if not style or style == "Regular" else f"{family} {style}"
        found.setdefault(name, Path(file))
    return found


def _from_scan() -> dict[str, Path]:
    found: dict[str, Path] = {}
    for top in _FONT_DIRS:
        for dirpath, _dirs, files in os.walk(os.path.expanduser(top)):
            for file in sorted(files):
                if file.lower().endswith(FONT_SUFFIXES):
                    path = Path(dirpath) / file
                    found.setdefault(_family_name(path), path)
    return found


@cache
def system_fonts() -> dict[str, Path]:
    """Display name -> file of every usable font on this machine, the built-in one first.

    Uses ``fc-list`` when fontconfig is installed, else walks the usual font folders. Cached for
    the life of the process (the dashboard's font picker asks often; fonts rarely change).
    """
    exe = shutil.which("fc-list")
    found = _from_fc_list(exe) if exe else {}
    if not found:
        found = _from_scan()
    return {DEFAULT_FONT_NAME: DEFAULT_FONT, **dict(sorted(found.items()))}


def font_path(spec: str | os.PathLike[str] | None) -> Path:
    """The file for ``spec``: ``None``/``""`` (built-in), a font file path, or a system name.

    Names match :func:`system_fonts` keys case-insensitively (``"liberation sans"``).
    """
    if spec is None or os.fspath(spec).strip() == "":
        return DEFAULT_FONT
    text = os.fspath(spec).strip()
    candidate = Path(os.path.expanduser(text))
    if candidate.suffix.lower() in FONT_SUFFIXES or os.sep in text:
        try:
            found = candidate.is_file()
        except OSError as exc:  # a name too long for the file system, say
            raise FontError(f"font file {text[:200]!r} cannot be used: {exc.strerror}") from None
        if not found:
            raise FontError(f"font file {text!r} does not exist")
        return candidate
    fonts = system_fonts()
    lowered = {name.lower(): path for name, path in fonts.items()}
    if text.lower() in lowered:
        return lowered[text.lower()]
    raise FontError(
        f"font {text!r} is neither a font file (.ttf/.otf/.ttc) nor an installed font; "
        f"leave it empty for the built-in font or pick one of: {', '.join(list(fonts)[:8])}, ..."
    )


@lru_cache(maxsize=64)
def _load(path: str, size: int) -> ImageFont.FreeTypeFont:
    try:
        return ImageFont.truetype(path, size)
    except OSError as exc:
        raise FontError(f"font file {path!r} cannot be read: {exc}") from None


def load_font(spec: str | os.PathLike[str] | None, size: int) -> ImageFont.FreeTypeFont:
    """The font ``spec`` at ``size`` pixels, loaded once per process per (file, size)."""
    if size < 1:
        raise FontError(f"font size must be at least 1 pixel, got {size}")
    return _load(str(font_path(spec)), int(size))
