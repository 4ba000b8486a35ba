"""Time-zone-aware clocks and DST-safe conversions.

Every datetime inside pyLapse is aware. Wall-clock times without an offset (a frame name such as
``IMG_20240115_120000``) become aware through :func:`localize`, which applies one documented rule
for the two DST edge cases:

* **Ambiguous** wall time (the repeated hour when clocks go back): the *first* occurrence, i.e.
  the instant still on summer time (``fold=0``). 01:30 on the night Europe/Berlin leaves CEST is
  01:30+02:00.
* **Skipped** wall time (the hour that does not exist when clocks go forward): shifted forward by
  the length of the gap, i.e. read with the offset that applied just before the change. 02:30 on
  the night Europe/Berlin enters CEST becomes 03:30+02:00.

Both cases are decided by the zone database (zoneinfo's ``fold=0`` reading), so they hold for every
IANA zone, including the ones that change by 30 minutes (Australia/Lord_Howe) or skip whole days.

The index stores UTC plus the offset that applied; :func:`from_utc` rebuilds the frame's own wall
clock from those two numbers without consulting any zone database.
"""

from __future__ import annotations

import contextlib
import os
import re
import zoneinfo
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from functools import cache, lru_cache
from pathlib import Path

__all__ = [
    "ZoneError",
    "all_zones",
    "as_fixed",
    "fixed_zone",
    "format_offset",
    "from_utc",
    "is_zone",
    "local_zone_name",
    "localize",
    "now",
    "offset_seconds",
    "offset_text",
    "parse_offset",
    "tz_abbrev",
    "zone",
]


class ZoneError(ValueError):
    """A time-zone name that is not in the IANA database."""


@cache
def all_zones() -> tuple[str, ...]:
    """Every IANA zone name the installed database knows, sorted."""
    return tuple(sorted(zoneinfo.available_timezones()))


def is_zone(name: str) -> bool:
    try:
        zone(name)
    except ZoneError:
        return False
    return True


@lru_cache(maxsize=512)
def zone(name: str | None) -> tzinfo:
    """The zone called ``name``; ``None`` or ``""`` means this machine's local zone."""
    if not name:
        return zoneinfo.ZoneInfo(local_zone_name())
    if name.upper() == "UTC":
        return UTC
    try:
        return zoneinfo.ZoneInfo(name)
    # OSError: a name that is a folder of zones, or too long for the file system to look up
    except (zoneinfo.ZoneInfoNotFoundError, ValueError, OSError) as exc:
        raise ZoneError(f"{name!r} is not an IANA time zone (for example 'Asia/Tokyo')") from exc


@cache
def local_zone_name() -> str:
    """This machine's IANA zone name: $TZ, /etc/timezone, the /etc/localtime link, else UTC."""
    return _first_zone(os.environ.get("TZ", ""), Path("/etc/timezone"), Path("/etc/localtime"))


def _first_zone(tz_variable: str, timezone_file: Path, localtime: Path) -> str:
    """The first real zone of: the TZ variable (``:Area/City`` as POSIX allows), the name in
    ``timezone_file`` (Debian), the ``.../zoneinfo/Area/City`` target of the ``localtime`` link;
    else UTC. A source that is missing or names no zone is skipped."""
    candidates = [tz_variable.lstrip(":")]
    with contextlib.suppress(OSError):
        candidates.append(timezone_file.read_text().strip())
    try:
        target = os.readlink(localtime)
        if "zoneinfo/" in target:
            candidates.append(target.split("zoneinfo/", 1)[1])
    except OSError:
        pass
    for name in candidates:
        if name:
            try:
                zoneinfo.ZoneInfo(name)
            except (zoneinfo.ZoneInfoNotFoundError, ValueError, IsADirectoryError):
                continue
            return name
    return "UTC"


def now(tz: tzinfo | None = None) -> datetime:
    """The current instant, in ``tz`` (UTC when not given)."""
    return datetime.now(tz or UTC)


def localize(naive: datetime, tz: tzinfo) -> datetime:
    """Attach ``tz`` to a wall-clock time, resolving DST edge cases by the module's rule."""
    if naive.tzinfo is not None:
        return naive.astimezone(tz)
    aware = naive.replace(tzinfo=tz, fold=0)
    # A skipped wall time carries the pre-transition offset; a round trip through UTC moves it
    # forward onto the real clock. Other times come back unchanged.
    return aware.astimezone(UTC).astimezone(tz)


def offset_seconds(dt: datetime) -> int:
    """The UTC offset in force at ``dt``, in whole seconds."""
    off = dt.utcoffset()
    if off is None:
        raise ValueError(f"{dt!r} is naive; pyLapse only handles aware datetimes")
    return int(off.total_seconds())


@lru_cache(maxsize=256)
def _fixed(seconds: int) -> timezone:
    return UTC if seconds == 0 else timezone(timedelta(seconds=seconds))


def fixed_zone(seconds: int) -> timezone:
    """A fixed-offset zone ``seconds`` east of UTC (cached; ``UTC`` itself for 0)."""
    return _fixed(seconds)


def as_fixed(dt: datetime) -> datetime:
    """The same instant and wall clock, with its UTC offset as a fixed zone.

    A datetime in a ZoneInfo zone inside a repeated hour never compares equal to one in another
    zone (PEP 495), even at the same instant; with a fixed offset it does. Frame times are
    returned this way: the offset that applied is the fact worth keeping.
    """
    return dt.replace(tzinfo=_fixed(offset_seconds(dt)), fold=0)


def from_utc(utc_seconds: float, offset: int) -> datetime:
    """The instant ``utc_seconds`` on the wall clock of the fixed offset that applied then."""
    return datetime.fromtimestamp(utc_seconds, _fixed(offset))


def format_offset(dt: datetime, sep: str = ".") -> str:
    """``+09.00`` style offset of ``dt`` (``sep`` between hours and minutes).

    Offsets with seconds (local mean time before 1972 in a few zones, e.g. Africa/Monrovia's
    -00:44:30) keep them as ``-00.44.30``, so a name still round-trips to the exact instant.
    """
    return offset_text(offset_seconds(dt), sep)


def offset_text(total: int, sep: str = ".") -> str:
    """``+09.00`` for an offset of ``total`` seconds (``+HH.MM.SS`` when seconds are not zero)."""
    sign = "-" if total < 0 else "+"
    minutes, seconds = divmod(abs(total), 60)
    text = f"{sign}{minutes // 60:02d}{sep}{minutes % 60:02d}"
    return f"{text}{sep}{seconds:02d}" if seconds else text


_OFFSET = re.compile(
    r"^(?:(?P<z>[Zz])|(?P<sign>[+-])(?P<h>\d{2})(?:[.:]?(?P<m>\d{2})(?:[.:]?(?P<s>\d{2}))?)?)$"
)


def parse_offset(text: str) -> timezone:
    """A fixed zone from ``Z``, ``+09.00``, ``+09:00``, ``+0900``, ``+09`` or ``-00.44.30``."""
    match = _OFFSET.match(text.strip())
    if not match:
        raise ValueError(f"{text!r} is not a UTC offset (accepted: Z, +09.00, +09:00, +0900, +09)")
    if match["z"]:
        return UTC
    hours, minutes, secs = int(match["h"]), int(match["m"] or 0), int(match["s"] or 0)
    if hours > 23 or minutes > 59 or secs > 59:
        raise ValueError(f"{text!r} is not a UTC offset: hours must be 0-23 and minutes 0-59")
    seconds = hours * 3600 + minutes * 60 + secs
    return _fixed(-seconds if match["sign"] == "-" else seconds)


def tz_abbrev(dt: datetime) -> str:
    """The zone abbreviation at ``dt`` (``JST``, ``CEST``), or its numeric offset if none."""
    name = dt.tzname() or ""
    if not name or name.startswith(("UTC+", "UTC-", "+", "-")):
        return format_offset(dt, sep="")
    return name
