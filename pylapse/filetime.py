"""One file's own time evidence: the wall clock it carries, the UTC offset it proves, and how sure.

:func:`file_evidence` reads a single file (headers only, never pixels) and returns
:class:`Evidence`: the naive wall clock and where it came from (:class:`TimeSource`), the offset in
seconds east of UTC and where it came from (:class:`OffsetSource`), and a :class:`TimeStatus`
with a short reason. It never guesses: a file without offset evidence is ``ASSUMED`` (the index
then tries neighbours and the collection's zone), evidence that contradicts itself is
``CONFLICT``, and a clock or offset that cannot be right is ``IMPLAUSIBLE``; a flagged result
carries no offset.

The rules, in order:

1. The wall clock: EXIF ``DateTimeOriginal`` (+ ``SubSecTimeOriginal``), else
   ``DateTimeDigitized``, else XMP ``CreateDate``/``DateCreated``/``DateTimeOriginal``
   (:mod:`pylapse.metadata.xmp`), else a trail camera's maker-note clock. A blank or all-zero
   EXIF date is refused (``IMPLAUSIBLE`` when nothing else gives a clock); a maker-note clock that
   disagrees with EXIF is a conflict.
2. The clock must be plausible: not a factory default (1970, or 1 January of 1980, 1998, 2000,
   2001), not more than a day after the file's own modification time, not more than a day after
   the file's ``ModifyDate`` (a camera writes both from one clock; editors only move
   ``ModifyDate`` later, so the reverse is normal and not flagged).
3. Offset evidence, each checked to be a real offset (-12:00..+14:00, whole quarter hours) or
   flagged: ``OffsetTimeOriginal`` (``OffsetTimeDigitized`` for ``DateTimeDigitized``) then
   ``OffsetTime`` (only when ``ModifyDate`` is the same clock); TIFF/EP ``TimeZoneOffset``
   (first value, whole hours); maker-note zones (Canon ``TimeInfo``, Nikon ``WorldTime``, each
   zone plus its DST flag as exiftool's time_zone.config reads them; :mod:`pylapse.makernote`);
   XMP dates with an offset whose wall clock matches. All that is present must agree.
4. GPS: the wall clock minus GPS date+time (time only, modulo 24 h, when the date is missing or
   unreadable) must land within 2 minutes of a real offset. It cross-checks the evidence of rule
   3 (a disagreement is a conflict); alone, it is taken only when the fix is fresh (same day
   within the offset range), not a placeholder (0,0 or zero dates) and it agrees with the
   location's zone (from the coordinates) and with ``zone`` when given; otherwise ``CONFLICT``
   (the GPS block is read by :mod:`pylapse.metadata.gps`).
5. ``wall_clock`` (a clock read from the file's name): when the file's own clock differs from it
   by more than 2 seconds, the result is ``CONFLICT``; when they agree the name may take the
   offset found here.
"""

from __future__ import annotations

import functools
import os
import re
from dataclasses import dataclass, replace
from datetime import datetime, timedelta, tzinfo
from enum import StrEnum

from pylapse import exif, makernote
from pylapse.metadata import xmp

# real_offset is in __all__ here too: callers and tests import it from pylapse.filetime.
from pylapse.metadata.gps import (
    GPS_SLACK,
    MAX_OFFSET,
    nearest_real,
    offset_from_fix,
    real_offset,
    show_offset,
    zone_disagreement,
)
from pylapse.metadata.gps import text as _text

__all__ = ["Evidence", "OffsetSource", "TimeSource", "TimeStatus", "file_evidence", "real_offset"]


class TimeSource(StrEnum):
    """Where a frame's wall clock came from."""

    NAME = "name"
    FOLDER = "folder+name"
    EXIF = "exif"
    XMP = "xmp"
    MAKERNOTE = "makernote"
    MTIME = "mtime"
    CAPTURE = "capture"


class OffsetSource(StrEnum):
    """Where a frame's UTC offset came from (``NEIGHBOURS`` and ``ZONE`` are the index's)."""

    NAME = "name"
    EXIF = "exif-offset"  # OffsetTimeOriginal / OffsetTime
    TIFFEP = "tiffep"  # TIFF/EP TimeZoneOffset (first value)
    MAKERNOTE = "makernote"
    XMP = "xmp"
    GPS = "gps"
    NEIGHBOURS = "neighbours"
    ZONE = "zone"


class TimeStatus(StrEnum):
    """How far a frame's time can be trusted."""

    CERTAIN = "certain"  # offset proven by the file, and consistent with the rest of it
    INFERRED = "inferred"  # offset taken from neighbouring frames (decided by the index)
    ASSUMED = "assumed"  # no offset evidence: the collection's zone is used
    CONFLICT = "conflict"  # the file's evidence contradicts itself (see reason)
    IMPLAUSIBLE = "implausible"  # the clock or offset cannot be right (factory default, ...)


@dataclass(frozen=True, slots=True)
class Evidence:
    """What one file says about its own time (see :func:`file_evidence`)."""

    local: datetime | None  # naive wall clock from the file itself (None: none usable)
    time_source: TimeSource | None
    offset: int | None  # seconds east of UTC the file itself proves, else None
    offset_source: OffsetSource | None
    status: TimeStatus
    reason: str = ""  # short, for the user: why conflict/implausible/assumed


#: Clocks agreeing within this are the same clock (file systems and names keep whole seconds).
CLOCK_SLACK = timedelta(seconds=2)
_DAY = 86400
_FACTORY_NEW_YEARS = (1980, 1998, 2000, 2001)


def file_evidence(
    path: str | os.PathLike[str],
    *,
    zone: tzinfo | None = None,
    mtime: float | None = None,
    wall_clock: datetime | None = None,
) -> Evidence:
    """One file's own time evidence (the rules are in the module's docstring).

    ``zone``: the collection's zone, which a GPS-only offset must agree with. ``mtime``: the
    file's modification time (read from the file system when not given). ``wall_clock``: the
    clock a name gave, naive. Never raises for a bad file: the reason says what is wrong.
    """
    try:
        meta = exif.read_meta(path)
    except exif.ExifError as exc:
        return _nothing(f"metadata unreadable: {exc}")
    if meta is None:
        return _nothing("no EXIF or XMP in the file")
    if mtime is None:
        try:
            mtime = os.stat(path).st_mtime
        except OSError:
            mtime = None
    found = _Reader(meta, zone, mtime).evidence()
    if wall_clock is not None and found.local is not None:
        skew = abs(found.local - wall_clock.replace(tzinfo=None))
        if skew > CLOCK_SLACK:
            reason = (
                f"the name's clock {wall_clock:%Y-%m-%d %H:%M:%S} differs from the file's "
                f"{found.local:%Y-%m-%d %H:%M:%S} ({found.time_source})"
            )
            return replace(
                found, offset=None, offset_source=None, status=TimeStatus.CONFLICT, reason=reason
            )
    return found


def _nothing(reason: str) -> Evidence:
    return Evidence(None, None, None, None, TimeStatus.ASSUMED, reason)


# --- the reader -------------------------------------------------------------------------------

_EXIF_DATE = re.compile(r"^\s*(\d{4}):(\d{2}):(\d{2})[ T](\d{2}):(\d{2}):(\d{2})")
_OFFSET_TEXT = re.compile(r"^([+-])(\d{2}):?(\d{2})$")

# Exif and IFD0 tag numbers
_DATETIME, _MAKE = 0x0132, 0x010F
_DTO, _DTD, _SUBSEC_O, _SUBSEC_D = 0x9003, 0x9004, 0x9291, 0x9292
_OFFSET, _OFFSET_O, _OFFSET_D = 0x9010, 0x9011, 0x9012
_TZ_OFFSET = 0x882A


class _Bad(Exception):
    """A value that is present but cannot be right: the file is flagged with this reason."""


class _Conflict(Exception):
    """Two values in the file that contradict each other: a conflict with this reason."""


@dataclass(frozen=True, slots=True)
class _Offset:
    seconds: int
    source: OffsetSource
    label: str


class _Reader:
    def __init__(self, meta: exif.FileMeta, zone: tzinfo | None, mtime: float | None) -> None:
        self.meta = meta
        self.zone = zone
        self.mtime = mtime
        self.notes: list[str] = []  # refused values worth telling the user about
        make = meta.ifd0.get(_MAKE)
        self.note = makernote.read_makernote(_text(make), meta.tiff) if meta.tiff else None

    def evidence(self) -> Evidence:
        clock = self.clock()
        if clock is None:
            reason = "; ".join(self.notes) or "no capture time in the file's metadata"
            status = TimeStatus.IMPLAUSIBLE if self.notes else TimeStatus.ASSUMED
            return Evidence(None, None, None, None, status, reason)
        local, source, tag = clock
        try:
            self.check_plausible(local, tag)
            offsets = self.offsets(local, source, tag)
        except _Bad as exc:
            return Evidence(local, source, None, None, TimeStatus.IMPLAUSIBLE, str(exc))
        except _Conflict as exc:
            return Evidence(local, source, None, None, TimeStatus.CONFLICT, str(exc))
        note = self.note
        if (
            note is not None
            and note.local is not None
            and source is TimeSource.EXIF
            and abs(note.local - local) > CLOCK_SLACK
        ):
            reason = f"{note.label} {note.local} differs from {tag} {local}"
            return Evidence(local, source, None, None, TimeStatus.CONFLICT, reason)
        return self.decide(local, source, offsets)

    # -- the wall clock --

    def clock(self) -> tuple[datetime, TimeSource, str] | None:
        for tag, sub, name in (
            (_DTO, _SUBSEC_O, "DateTimeOriginal"),
            (_DTD, _SUBSEC_D, "DateTimeDigitized"),
        ):
            local = self.exif_date(self.meta.exif.get(tag), name, self.meta.exif.get(sub))
            if local is not None:
                return local, TimeSource.EXIF, name
        for name, (local, _offset) in self.xmp_dates.items():
            return local, TimeSource.XMP, f"XMP {name}"
        if self.note is not None and self.note.local is not None:
            return self.note.local, TimeSource.MAKERNOTE, self.note.label
        return None

    def exif_date(self, raw: object, name: str, subsec: object = None) -> datetime | None:
        if raw is None:
            return None
        text = _text(raw)
        if not text.replace(":", "").strip():
            self.notes.append(f"EXIF {name} is blank ({_text(raw, strip=False)!r})")
            return None
        match = _EXIF_DATE.match(text)
        if match is None:
            self.notes.append(f"EXIF {name} {text!r} is not a date")
            return None
        y, mo, d, h, mi, s = (int(g) for g in match.groups())
        if y == 0 or mo == 0 or d == 0:
            self.notes.append(f"EXIF {name} {text!r} is all zeros (clock never set)")
            return None
        fraction = "".join(ch for ch in _text(subsec or "") if ch.isdigit())[:6]
        try:
            micro = int(fraction.ljust(6, "0")) if fraction else 0
            return datetime(y, mo, d, h, mi, s, micro)  # noqa: DTZ001 - a wall clock
        except ValueError as exc:
            self.notes.append(f"EXIF {name} {text!r} is not a date ({exc})")
            return None

    @functools.cached_property
    def xmp_dates(self) -> dict[str, tuple[datetime, int | None]]:
        """XMP dates with a time of day: name -> (wall clock, offset seconds or None)."""
        return {
            name: (local, None if off is None else 0 if off == "Z" else _offset_seconds(off))
            for name, (local, off) in xmp.dates(self.meta.xmp).items()
        }

    # -- plausibility --

    def check_plausible(self, local: datetime, tag: str) -> None:
        day = local.date()
        if day.year <= 1970 or (day.month == 1 and day.day == 1 and day.year in _FACTORY_NEW_YEARS):
            raise _Bad(f"{tag} {local} looks like a factory-default clock (never set)")
        if self.mtime is not None:
            # The earliest instant this wall clock can be is at the largest offset (+14:00).
            earliest = (local - datetime(1970, 1, 1)).total_seconds() - MAX_OFFSET  # noqa: DTZ001
            if earliest > self.mtime + _DAY:
                modified = datetime.fromtimestamp(self.mtime).replace(microsecond=0)  # noqa: DTZ006
                raise _Bad(f"{tag} {local} is after the file was last modified ({modified})")
        modify = self.modify_date()
        if modify is not None and local - modify > timedelta(days=1):
            raise _Bad(f"{tag} {local} is after ModifyDate {modify}: the camera's clock was wrong")

    def modify_date(self) -> datetime | None:
        match = _EXIF_DATE.match(_text(self.meta.ifd0.get(_DATETIME, "")))
        if match is None:
            return None
        y, mo, d, h, mi, s = (int(g) for g in match.groups())
        try:
            return datetime(y, mo, d, h, mi, s)  # noqa: DTZ001 - a wall clock
        except ValueError:
            return None

    # -- offsets --

    def offsets(self, local: datetime, source: TimeSource, tag: str) -> list[_Offset]:
        found: list[_Offset] = []
        if source is TimeSource.EXIF:
            own = _OFFSET_D if tag == "DateTimeDigitized" else _OFFSET_O
            names = {_OFFSET_O: "OffsetTimeOriginal", _OFFSET_D: "OffsetTimeDigitized"}
            modify = self.modify_date()
            # OffsetTime is the offset of ModifyDate: it speaks for this clock only when both
            # are the camera's one clock (an editor's later save may carry its own zone).
            same_clock = modify is None or abs(modify - local) <= CLOCK_SLACK
            for number in (own, _OFFSET) if same_clock else (own,):
                raw = self.meta.exif.get(number)
                if raw is None or not _text(raw).strip(": "):
                    continue  # absent or blank: no evidence, nothing wrong
                name = names.get(number, "OffsetTime")
                seconds = _offset_seconds(_text(raw))
                if seconds is None or not real_offset(seconds):
                    raise _Bad(
                        f"{name} {_text(raw)!r} is not a real UTC offset "
                        "(-12:00..+14:00 in quarter hours)"
                    )
                found.append(_Offset(seconds, OffsetSource.EXIF, f"{name} {_text(raw)}"))
                break
        hours = self.meta.exif.get(_TZ_OFFSET, self.meta.ifd0.get(_TZ_OFFSET))
        if hours is not None:
            first = hours[0] if isinstance(hours, tuple) and hours else hours
            if not isinstance(first, int) or not real_offset(first * 3600):
                raise _Bad(f"TimeZoneOffset {hours!r} is not a real UTC offset in hours")
            found.append(_Offset(first * 3600, OffsetSource.TIFFEP, f"TimeZoneOffset {first:+d} h"))
            # TIFF/EP: the first value is ModifyDate's zone, a second DateTimeOriginal's. The
            # first is taken (one clock, one zone); a second that differs is a contradiction.
            second = hours[1] if isinstance(hours, tuple) and len(hours) > 1 else first
            if second != first:
                raise _Conflict(
                    f"TimeZoneOffset {first:+d} h (ModifyDate) disagrees with its second value "
                    f"{second:+} h (DateTimeOriginal)"
                )
        if self.note is not None and self.note.offset_minutes is not None:
            seconds = self.note.offset_minutes * 60
            if not real_offset(seconds):
                raise _Bad(f"{self.note.label} is not a real UTC offset")
            found.append(_Offset(seconds, OffsetSource.MAKERNOTE, self.note.label))
        for name, (when, seconds) in self.xmp_dates.items():
            if seconds is None or abs(when - local) > CLOCK_SLACK:
                continue  # another clock (an editor's) or no offset: not evidence for this one
            if not real_offset(seconds):
                raise _Bad(f"XMP {name} has offset {show_offset(seconds)}, not a real UTC offset")
            found.append(_Offset(seconds, OffsetSource.XMP, f"XMP {name} {show_offset(seconds)}"))
            break
        return found

    def decide(self, local: datetime, source: TimeSource, offsets: list[_Offset]) -> Evidence:
        gps = offset_from_fix(self.meta.gps, local, self.zone)
        if offsets:
            first = offsets[0]
            for other in offsets[1:]:
                if other.seconds != first.seconds:
                    reason = f"{first.label} disagrees with {other.label}"
                    return Evidence(local, source, None, None, TimeStatus.CONFLICT, reason)
            reason = "; ".join([first.label] + [f"{o.source} agrees" for o in offsets[1:]])
            if isinstance(gps, tuple):
                raw, label = gps
                if abs(raw - first.seconds) > GPS_SLACK.total_seconds():
                    reason = f"{first.label} disagrees with {label}"
                    return Evidence(local, source, None, None, TimeStatus.CONFLICT, reason)
                reason += "; GPS agrees"
            return Evidence(local, source, first.seconds, first.source, TimeStatus.CERTAIN, reason)
        if gps is None:
            return Evidence(
                local, source, None, None, TimeStatus.ASSUMED, "no UTC offset in the file"
            )
        if isinstance(gps, str):
            return Evidence(local, source, None, None, TimeStatus.CONFLICT, gps)
        raw, label = gps
        seconds = nearest_real(raw)
        if seconds is None:
            reason = f"{label}: not within 2 minutes of a real UTC offset (drifting clock)"
            return Evidence(local, source, None, None, TimeStatus.CONFLICT, reason)
        disagree = zone_disagreement(self.meta.gps, local, seconds, self.zone)
        if disagree:
            return Evidence(
                local, source, None, None, TimeStatus.CONFLICT, f"{label} but {disagree}"
            )
        return Evidence(local, source, seconds, OffsetSource.GPS, TimeStatus.CERTAIN, label)


# --- helpers ----------------------------------------------------------------------------------


def _offset_seconds(text: str) -> int | None:
    match = _OFFSET_TEXT.match(text.strip())
    if match is None:
        return None
    sign, hours, minutes = match.groups()
    if int(minutes) > 59:
        return None
    total = int(hours) * 3600 + int(minutes) * 60
    return -total if sign == "-" else total
