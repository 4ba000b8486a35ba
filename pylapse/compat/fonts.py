"""0.2's ``pyLapse.img_seq.fonts``: the bundled font, system fonts, Google Fonts on demand.

Entries are ``{"name": ..., "path": ..., "source": "bundled" | "system"}`` as in 0.2. The
bundled font is today's (DejaVu Sans; 0.2 shipped Roboto).
"""

from __future__ import annotations

import re
from pathlib import Path

from pylapse.imaging import fonts

__all__ = [
    "get_bundled_fonts",
    "get_default_font",
    "get_google_font",
    "get_system_fonts",
    "list_available_fonts",
]

_GOOGLE_TTF = re.compile(r"url\((https://fonts\.gstatic\.com/[^)]+\.ttf)\)")


def get_default_font() -> str:
    """The path of the bundled font."""
    return str(fonts.DEFAULT_FONT)


def get_bundled_fonts() -> list[dict[str, str]]:
    return [{"name": fonts.DEFAULT_FONT_NAME, "path": str(fonts.DEFAULT_FONT), "source": "bundled"}]


def get_system_fonts(*, force_rescan: bool = False) -> list[dict[str, str]]:
    """The fonts installed on this machine, by name (``force_rescan`` accepted as in 0.2; the
    list is read afresh on every call)."""
    found = fonts.system_fonts()
    return [
        {"name": name, "path": str(path), "source": "system"}
        for name, path in sorted(found.items(), key=lambda item: item[0].lower())
        if Path(path) != fonts.DEFAULT_FONT
    ]


def list_available_fonts() -> list[dict[str, str]]:
    """Bundled and system fonts, sorted by name."""
    return sorted(get_bundled_fonts() + get_system_fonts(), key=lambda f: f["name"].lower())


def font_cache() -> Path:
    from pylapse.collection import cache_dir

    return cache_dir() / "fonts"


def get_google_font(family: str) -> str | None:
    """Download Google Font ``family`` once into the cache folder and return its file, or
    ``None`` when it cannot be had (no network, no such family), as 0.2 did."""
    import httpx

    safe = re.sub(r"[^\w\s-]", "", family).strip().replace(" ", "_")
    if not safe:
        return None
    cached = font_cache() / f"{safe}.ttf"
    if cached.is_file():
        return str(cached)
    css = f"https://fonts.googleapis.com/css2?family={family.replace(' ', '+')}&display=swap"
    try:
        with httpx.Client(timeout=30, headers={"User-Agent": "Mozilla/5.0"}) as client:
            found = _GOOGLE_TTF.search(client.get(css).raise_for_status().text)
            if found is None:
                return None
            data = client.get(found.group(1)).raise_for_status().content
    except httpx.HTTPError:
        return None
    from pylapse import storage

    storage.atomic_write(cached, data)
    return str(cached)
