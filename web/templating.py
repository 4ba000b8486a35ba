"""Jinja2 set-up: one ``Jinja2Templates`` with autoescape and the filters every page uses.

Templates never build JavaScript from user text; values reach scripts only through ``data-``
attributes (escaped) or ``tojson`` (which escapes ``<``, ``>``, ``&`` and ``'``).
"""

from __future__ import annotations

import hashlib
import re
from datetime import UTC, datetime, tzinfo
from pathlib import Path
from typing import TYPE_CHECKING, Any

import jinja2
from fastapi import Request
from fastapi.templating import Jinja2Templates

from pylapse import __version__, timeutil
from web import security

if TYPE_CHECKING:
    from pylapse.runtime import Runtime

TEMPLATE_DIR = Path(__file__).resolve().parent / "templates"
NAV = (
    ("dashboard", "Dashboard", "/"),
    ("cameras", "Cameras", "/cameras"),
    ("collections", "Collections", "/collections"),
    ("exports", "Exports", "/exports"),
    ("videos", "Videos", "/videos"),
    ("pictures", "Pictures", "/pictures"),
    ("settings", "Settings", "/settings"),
)


def filesize(value: float | int | None) -> str:
    """1536 -> '1.5 KB' (powers of 1024, as file managers show sizes)."""
    if value is None:
        return "–"
    size = float(value)
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if abs(size) < 1024 or unit == "TB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{size:.1f} PB"  # pragma: no cover - the loop always returns


def localtime(value: datetime | float | None, tz: tzinfo | str | None = None, fmt: str = "") -> str:
    """An instant shown in ``tz`` (a zone or its name; default: the instant's own offset)."""
    if value is None:
        return "–"
    when = value if isinstance(value, datetime) else datetime.fromtimestamp(value, UTC)
    if isinstance(tz, str):
        tz = timeutil.zone(tz)
    if tz is not None:
        when = when.astimezone(tz)
    elif when.tzinfo is None:  # never expected: every datetime in pyLapse is aware
        when = when.astimezone(timeutil.zone(None))
    return when.strftime(fmt or "%Y-%m-%d %H:%M:%S ") + timeutil.tz_abbrev(when)


def duration(seconds: float | None) -> str:
    """Seconds as '1 h 05 min', '3 min 20 s' or '12 s'."""
    if seconds is None:
        return "–"
    s = round(seconds)
    if s >= 86400:
        return f"{s // 86400} d {s % 86400 // 3600} h"
    if s >= 3600:
        return f"{s // 3600} h {s % 3600 // 60:02d} min"
    if s >= 60:
        return f"{s // 60} min {s % 60:02d} s"
    return f"{s} s"


def ago(value: datetime | None) -> str:
    """How long before now ``value`` was: '5 s ago', '3 min ago'."""
    if value is None:
        return "never"
    delta = (timeutil.now() - value).total_seconds()
    return "in " + duration(-delta) if delta < 0 else duration(delta) + " ago"


def domid(value: object) -> str:
    """A string safe as an HTML id; ids that had to change get a short hash so they stay unique."""
    text = str(value)
    safe = re.sub(r"[^A-Za-z0-9_-]", "-", text)
    if safe != text:
        safe += "-" + hashlib.sha1(text.encode()).hexdigest()[:6]
    return safe


RELOAD_NOTICE_SECONDS = 15 * 60  # how long pages say that a hand edit was loaded


def _config_context(request: Request) -> dict[str, Any]:
    """The config token forms send back (compare-and-swap saves) and what to say about the
    file: an error in a hand edit on every page, a reload for a while after it happened, and
    the camera entries set aside as invalid."""
    runtime: Runtime = request.app.state.runtime
    config, token = runtime.config_snapshot()
    sent = getattr(request.state, "config_token_sent", None)
    if sent and token and sent != token:
        token = sent  # a form re-shown after a refused save: its values are still the old ones
    notice = runtime.config_notice
    if notice is not None and notice.status == "reloaded":
        age = (timeutil.now() - notice.at).total_seconds()
        notice = notice if age <= RELOAD_NOTICE_SECONDS else None
    return {
        "config_token": token or "",
        "config_notice": notice,
        "invalid_cameras": config.invalid_cameras,
    }


def _csrf_context(request: Request) -> dict[str, Any]:
    return {
        "csrf_token": security.csrf_token(request),
        "nav": NAV,
        "logged_in": security.is_authenticated(request),
        "login_enabled": security.password_set(request),
        **_config_context(request),
    }


def create_templates() -> Jinja2Templates:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATE_DIR),
        autoescape=True,  # every template, whatever its extension
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(
        domid=domid, filesize=filesize, localtime=localtime, duration=duration, ago=ago
    )
    env.globals["version"] = __version__
    return Jinja2Templates(env=env, context_processors=[_csrf_context])
