"""Collection: a named set of frames in a folder tree, queried through the frame index.

The original pyLapse shape, on the index instead of folder scans::

    from pylapse import Collection

    outdoor = Collection("Outdoor", "/exports/outdoor", "/frames/outdoor", timezone="Europe/Berlin")
    print(outdoor)  # Image Collection: Outdoor, Location: /frames/outdoor, Image Count: 8640
    noon = outdoor.day_slice("12:00")
    day = outdoor.select(hour="6-20", minute="*/15", date_from="2026-01-01")
    outdoor.add_export("Day Export", "day", "Timelapse ", "every 15 min, every 2 h", minute="*/15",
                       hour="*/2")
    outdoor.export.run("Day Export", drawtimestamp=True, optimize=True)
    outdoor.export("Day Export", resize=True, quality=50)  # 0.2's call and writer options

The positional parameters are 0.2's (``ext, mask, filematch`` after ``collection_dir``); the
writer options of 0.2 (``resize``, ``resolution``, ``timestampformat``, ``zeropadding`` ...) are
accepted by every export call and mean what they meant (see
:func:`pylapse.export.options.from_v02`), with today's defaults; ``pylapse.compat`` (the 0.2
import path ``pyLapse.img_seq``) keeps 0.2's defaults too.

Where the index lives
    Inside pyLapse (the web app, ``pylapse export``) collections share the data folder's
    ``pylapse.db`` (``index=`` and ``key=`` are passed) and the indexer keeps it current. A
    collection built by hand without an index gets a private one in the user's cache folder,
    ``$PYLAPSE_CACHE_DIR`` or ``$XDG_CACHE_HOME/pylapse`` or ``~/.cache/pylapse``, under
    ``collections/<hash of the folder>/pylapse.db``: the frame folder is never written to (it may
    be a read-only archive), and the first query scans the folder incrementally (a no-change
    rescan re-reads nothing). :meth:`Collection.refresh` rescans on demand.
"""

from __future__ import annotations

import fnmatch
import hashlib
import math
import os
import re
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pylapse import storage, timeutil
from pylapse.progress import Cancelled, Progress, safe_report
from pylapse.selection.dead_camera import DeadFrames
from pylapse.selection.quality_filter import (
    FilterResult,
    QualityFilter,
    filter_candidates,
    finish_selection,
)
from pylapse.selection.selection import (
    DEFAULT_SLICE_TOLERANCE,
    DEFAULT_TOLERANCE,
    Selection,
    select_all,
    select_cron,
    select_day_slice,
    select_sun,
)
from pylapse.selection.sun import SunGap, keep_frames_in_windows, parse_window, window_spans
from pylapse.selection.targets import CRON_FIELDS, DaySpan, SelectionError, resolve_range

if TYPE_CHECKING:
    from pylapse.config.models import Config
    from pylapse.config.presets import ExportPreset
    from pylapse.export.options import ExportOptions
    from pylapse.export.run import ExportResult
    from pylapse.index.frame import Frame
    from pylapse.index.store import FrameIndex
    from pylapse.index.zones import ZoneTimeline
    from pylapse.pictures.make import Pictures
    from pylapse.progress import ProgressCallback

__all__ = [
    "Collection",
    "CollectionExport",
    "CollectionExports",
    "FolderState",
    "FolderStatus",
    "cache_dir",
]

_QUALITY_NAMES = (
    "min_luma",
    "max_luma",
    "min_contrast",
    "max_clip_high",
    "min_sharpness",
    "drop_duplicates",
    "drop_frozen",
    "frozen_run",
    "best_in_window",
    "keep_dead_frames",
)
_DENSE = 8  # load a chunk of frames by time range when it spans <= 8x its size, else by id
_CHUNK = 500


def _quality_options(options: dict[str, Any]) -> dict[str, Any]:
    """Pop the quality filter options out of ``options`` (the rest are cron fields)."""
    return {k: options.pop(k) for k in _QUALITY_NAMES if k in options}


def cache_dir() -> Path:
    """The per-user folder for private collection indexes."""
    explicit = os.environ.get("PYLAPSE_CACHE_DIR")
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "pylapse"


def _zone(value: str | tzinfo | None) -> tzinfo:
    return value if isinstance(value, tzinfo) else timeutil.zone(value)


def _extensions(ext: str) -> tuple[str, ...]:
    """0.2's ``ext`` as the index's extensions: ``jpg`` also takes ``.jpeg`` files (one format)."""
    clean = "." + ext.strip().lstrip(".").lower()
    return (".jpg", ".jpeg") if clean in (".jpg", ".jpeg") else (clean,)


def _filematch(value: re.Pattern[str] | str) -> re.Pattern[str]:
    """0.2's ``filematch`` regex, checked now: it must name its date and time groups."""
    from pylapse.naming import compile_user_pattern

    source = value.pattern if isinstance(value, re.Pattern) else value
    try:
        compile_user_pattern(source)
    except ValueError as exc:
        raise SelectionError(
            f"filematch: {exc} (pyLapse 0.2 read the groups by position; name them "
            "(?P<year>...)(?P<month>...)(?P<day>...)(?P<hour>...)(?P<minute>...)(?P<second>...))"
        ) from None
    return value if isinstance(value, re.Pattern) else re.compile(value)


class FolderState(StrEnum):
    """Whether a collection's folder is there to read frames from."""

    OK = "ok"
    MISSING = "missing"  # gone, renamed, or on a disk that is not mounted


@dataclass(frozen=True)
class FolderStatus:
    state: FolderState
    problem: str | None = None  # for the user, naming the folder; None when OK

    @property
    def missing(self) -> bool:
        return self.state is FolderState.MISSING


class Collection:
    """A named set of frames: counts, frames by time, selections, exports.

    The positional parameters are pyLapse 0.2's: ``ext`` is the frames' file type (``jpg``
    takes ``.jpeg`` too; default: every type the index reads, JPEG, PNG, HEIC, DNG; ``extensions``
    lists several instead), ``mask`` a glob on the file
    name without its extension (``"*"``: every file), ``filematch`` a regex reading the time
    from a name (named groups ``year month day hour minute [second]``; the index scan's
    ``pattern``).

    ``timezone`` (keyword; IANA name or tzinfo; default the machine's zone) is the zone days and
    cron fields are read in, and the zone of file names without an offset. ``date_source`` is
    passed to the index scan.

    ``roots`` (the config's storage roots) and the collection's own folder are :attr:`roots`:
    the scan follows a symlink only to a target inside them, and the dashboard serves a frame
    only while its file resolves inside them.
    """

    def __init__(
        self,
        name: str,
        export_dir: str | os.PathLike[str] | None,
        collection_dir: str | os.PathLike[str],
        ext: str | None = None,
        mask: str = "*",
        filematch: re.Pattern[str] | str | None = None,
        *,
        timezone: str | tzinfo | None = None,
        index: FrameIndex | None = None,
        key: str | None = None,
        pattern: re.Pattern[str] | str | None = None,
        date_source: str = "auto",
        extensions: Sequence[str] | None = None,
        roots: Sequence[str | os.PathLike[str]] = (),
        zones: Sequence[Mapping[str, str | None]] = (),
        ignore: Sequence[str] | None = None,
        latitude: float | None = None,
        longitude: float | None = None,
    ) -> None:
        if isinstance(ext, tzinfo) or (ext and ("/" in ext or ext.upper() in ("UTC", "GMT"))):
            # before 0.3 the fourth parameter was the time zone; it is 0.2's ext again
            raise TypeError(
                f"Collection({name!r}, ...): {ext!r} looks like a time zone; timezone is a "
                f"keyword: Collection(name, export_dir, collection_dir, timezone={str(ext)!r})"
            )
        if filematch is not None:
            if pattern is not None:
                raise TypeError("give filematch (0.2's name) or pattern, not both")
            pattern = _filematch(filematch)
        self.mask = mask or "*"
        self.name = name
        self.export_dir = Path(export_dir) if export_dir is not None else None
        self.collection_dir = Path(collection_dir)
        self.roots: tuple[Path, ...] = (*(Path(r) for r in roots), self.collection_dir)
        self.zone = _zone(timezone)
        self.zones = [dict(span) for span in zones]  # the config's zone timeline
        self.latitude, self.longitude = latitude, longitude  # for sun selections
        # what a scan leaves out of the folder (glob patterns; see storage.check_ignore)
        self.ignore: tuple[str, ...] = tuple(storage.DEFAULT_IGNORE if ignore is None else ignore)
        self.key = key or name
        self.pattern = pattern
        self.date_source = date_source
        self.extensions: tuple[str, ...] | None = (
            tuple(extensions) if extensions else _extensions(ext) if ext else None
        )
        self.presets: dict[str, ExportPreset] = {}
        self.descriptions: dict[str, str] = {}  # add_export's desc, by export name
        self.export = self._make_exports()
        self._index = index
        self._private = index is None
        self._scanned = not self._private  # a shared index is kept current by its owner
        self._lock = threading.Lock()

    def _make_exports(self) -> CollectionExports:
        """``collection.export``; ``pylapse.compat`` makes one with 0.2's defaults."""
        return CollectionExports(self)

    @classmethod
    def from_config(cls, config: Config, collection_id: str, index: FrameIndex) -> Collection:
        """The configured collection ``collection_id`` (or a camera's implicit one), with the
        config's export presets for it."""
        from pylapse.index.scan import DEFAULT_EXTENSIONS
        export_root = config.root_paths[0] / "exports" if config.root_paths else None
        export_dir = export_root / collection_id if export_root else None
        if collection_id in config.collections:
            c = config.collections[collection_id]
            coll = cls(
                c.name,
                export_dir,
                config.resolve(c.path),
                timezone=c.timezone,
                index=index,
                key=c.camera or collection_id,
                pattern=c.filename_pattern,
                date_source=c.date_source,
                extensions=c.extensions,
                roots=config.root_paths,
                zones=c.zones,
                ignore=c.ignore,
            )
            coll.latitude, coll.longitude = _place(c, config.cameras.get(c.camera or ""))
        elif collection_id in config.cameras:
            cam = config.cameras[collection_id]
            coll = cls(
                cam.name,
                export_dir,
                config.resolve(cam.output_dir),
                timezone=cam.timezone,
                index=index,
                extensions=DEFAULT_EXTENSIONS,
                key=collection_id,
                roots=config.root_paths,
                ignore=cam.ignore,
                latitude=cam.latitude,
                longitude=cam.longitude,
            )
        else:
            known = sorted({*config.collections, *config.cameras})
            raise SelectionError(
                f"no collection or camera {collection_id!r}; known: {', '.join(known) or 'none'}"
            )
        for preset_name, preset in config.exports.items():
            if preset.collection == collection_id:
                coll.presets[preset_name] = config.resolved_preset(preset_name, preset)
        return coll

    # --- the index ------------------------------------------------------------------------------

    @property
    def index(self) -> FrameIndex:
        """The frame index; a private one is opened (and the folder scanned) on first use."""
        index = self._open_index()
        if not self._scanned:
            self.refresh()
        return index

    def _open_index(self) -> FrameIndex:
        with self._lock:
            if self._index is None:
                from pylapse.db import DB_NAME
                from pylapse.index.store import FrameIndex

                digest = hashlib.sha256(os.fsencode(self.collection_dir.resolve())).hexdigest()
                folder = cache_dir() / "collections" / digest[:16]
                folder.mkdir(parents=True, exist_ok=True)
                self._index = FrameIndex(folder / DB_NAME)
            return self._index

    @property
    def timeline(self) -> ZoneTimeline:
        """The zone of frames without offset evidence, with the ``zones`` spans: what a scan
        resolves them with (a change re-reads them, :mod:`pylapse.index.zones`)."""
        from pylapse.index.zones import ZoneTimeline

        return ZoneTimeline.of(self.zone, self.zones)

    def scan_options(self) -> dict[str, Any]:
        """What every scan of this collection hands :meth:`FrameIndex.scan` besides the zone,
        progress and cancel: names, date source, extensions, roots and the ignore list (the
        library, ``pylapse index`` and the dashboard's scan job scan alike)."""
        options: dict[str, Any] = {
            "pattern": self.pattern,
            "date_source": self.date_source,
            "roots": self.roots,
            "ignore": self.ignore,
        }
        if self.extensions:
            options["extensions"] = self.extensions
        return options

    def refresh(self, progress: ProgressCallback | None = None) -> Any:
        """Bring the index up to date with the folder (incremental); returns the ScanResult.

        A failed first scan (a missing folder, say) raises and is tried again on the next use.
        """
        result = self._open_index().scan(
            self.key, self.collection_dir, self.timeline, progress=progress, **self.scan_options()
        )
        self._scanned = True
        return result

    def close(self) -> None:
        """Close a private index (a shared one belongs to whoever passed it)."""
        if self._private and self._index is not None:
            self._index.close()
            self._index = None
            self._scanned = False

    def __enter__(self) -> Collection:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- the folder -----------------------------------------------------------------------------

    def folder_status(self) -> FolderStatus:
        """Whether the frame folder is there (a ``stat`` and at most one directory entry read).

        MISSING when it is gone (deleted, renamed, a disk not mounted) or empty while the index
        holds frames of it (what an unmounted disk leaves: its empty mount point). The index
        rows are kept either way: when the folder is back, everything works again. A folder
        that does not exist yet while the index has no frames of it is OK: a new camera's,
        before its first frame.
        """
        folder = self.collection_dir
        try:
            if not folder.is_dir():
                if self._index is not None and not self._index.count(self.key):
                    return FolderStatus(FolderState.OK)
                gone = f"the folder {folder} is gone or not mounted"
                return FolderStatus(FolderState.MISSING, gone)
            with os.scandir(folder) as entries:
                empty = next(entries, None) is None
        except OSError as exc:
            problem = f"the folder {folder} cannot be read ({exc.strerror or exc})"
            return FolderStatus(FolderState.MISSING, problem)
        indexed = self._index.count(self.key) if empty and self._index is not None else 0
        if indexed:
            problem = (
                f"the folder {folder} is empty but {indexed:,} frames of it are indexed: "
                "is its disk mounted?"
            )
            return FolderStatus(FolderState.MISSING, problem)
        return FolderStatus(FolderState.OK)

    def _require_folder(self) -> None:
        status = self.folder_status()
        if status.missing:
            raise SelectionError(
                f"collection {self.name!r}: {status.problem}; its indexed frames are kept until "
                "it is back"
            )

    # --- counts and frames ----------------------------------------------------------------------

    def __len__(self) -> int:
        if self.mask != "*":
            return len(self._times(resolve_range(None, None, self.zone))[0])
        return int(self.index.count(self.key))

    def __str__(self) -> str:
        return (
            f"Image Collection: {self.name}, Location: {self.collection_dir}, "
            f"Image Count: {len(self)}"
        )

    def __repr__(self) -> str:
        exports = f", exports={sorted(self.presets)!r}" if self.presets else ""
        return (
            f"Collection({self.name!r}, key={self.key!r}, dir={str(self.collection_dir)!r}"
            f"{exports})"
        )

    def count_by_day(self) -> dict[date, int]:
        """Frames per day, days in the collection's zone."""
        return self.index.count_by_day(self.key, self.zone)

    def frames(
        self, start: date | datetime | None = None, end: date | datetime | None = None
    ) -> list[Frame]:
        """Frames from ``start`` to ``end`` (inclusive; a date ``end`` includes its whole day;
        naive datetimes are wall clock in the collection's zone), in time order."""
        span = resolve_range(start, end, self.zone)
        return self.index.frames(self.key, span.start, span.stop)  # the index's end is exclusive

    def _times(self, span: DaySpan) -> tuple[Sequence[int], Sequence[float]]:
        """Candidate (ids, utcs) of the span, straight from the index's hot path."""
        index = self.index
        self._require_folder()  # frames that cannot be read are not offered for export
        if self.mask != "*":
            # 0.2's mask: only frames whose name (without extension) matches it are candidates
            kept = [
                f
                for f in index.frames(self.key, span.start, span.stop)
                if fnmatch.fnmatchcase(os.path.splitext(f.path.name)[0], self.mask)
            ]
            return [f.id for f in kept], [f.utc for f in kept]
        return index.utc_times(self.key, span.start, span.stop)

    def _load(self, ids: Sequence[int], utcs: Sequence[float]) -> list[Frame]:
        """Frames for ``ids`` (time order): dense runs by one time-range query, sparse by id."""
        out: list[Frame] = []
        index = self.index
        for lo in range(0, len(ids), _CHUNK):
            chunk_ids, chunk_utcs = ids[lo : lo + _CHUNK], utcs[lo : lo + _CHUNK]
            first, stop = chunk_utcs[0], math.nextafter(chunk_utcs[-1], math.inf)
            found: dict[int, Frame] = {}
            if len(chunk_ids) > 1 and index.count(self.key, first, stop) <= _DENSE * len(chunk_ids):
                wanted = set(chunk_ids)
                found = {f.id: f for f in index.frames(self.key, first, stop) if f.id in wanted}
            for fid in chunk_ids:
                frame = found.get(fid) or index.get(fid)
                if frame is None:
                    raise SelectionError(
                        f"frame {fid} left the index since the selection was made; select again"
                    )
                out.append(frame)
        return out

    # --- selections -----------------------------------------------------------------------------

    def select(
        self,
        *,
        rules: Iterable[Mapping[str, Any]] | None = None,
        tolerance: timedelta | float = DEFAULT_TOLERANCE,
        date_from: date | datetime | str | None = None,
        date_to: date | datetime | str | None = None,
        best_of_day: time | str | None = None,
        sun: str | Sequence[str] | None = None,
        sun_window: str | tuple[str, str] | None = None,
        **options: Any,
    ) -> Selection:
        """Frames nearest the targets of cron fields (``hour="6-20", minute="*/15"``) or of
        several ``rules`` (a list of such dicts), within ``tolerance``; with no fields at all,
        every frame in the date range.

        A dead camera's frames (frozen runs, blank pictures and frames far darker than the day
        before, by the rule camera health uses: :mod:`pylapse.selection.dead_camera`) are left
        out by default and counted in ``selection.left_out``; ``keep_dead_frames=True`` keeps
        them. A frame never scored is never left out.

        Quality filters (all off by default, see :class:`QualityFilter`): ``min_luma``,
        ``max_luma``, ``min_contrast``, ``max_clip_high``, ``min_sharpness``,
        ``drop_duplicates``, ``drop_frozen``, ``best_in_window`` (the sharpest acceptable frame
        within the tolerance instead of the nearest). ``best_of_day="12:00"`` makes one frame
        per day, the sharpest acceptable one within the tolerance of that clock time (the day
        slice's one hour unless ``tolerance`` is given).

        The sun (needs the collection's ``latitude``/``longitude``; see
        :mod:`pylapse.selection.sun`): ``sun="sunset-30m"`` (or a list: ``["noon",
        "civil_dusk"]``) takes one frame per day nearest each point, instead of cron fields;
        ``sun_window="day"``, ``"night"`` or ``"civil_dawn-30m..civil_dusk+30m"`` keeps only
        frames (and targets) inside that window of each day. Days without the event or window
        (polar day or night) are listed with the reason in ``selection.sun_gaps``.
        """
        quality = _quality_options(options)
        cron = options
        unknown = sorted(set(cron) - set(CRON_FIELDS))
        if unknown:
            raise SelectionError(
                f"unknown selection field {unknown[0]!r}; accepted: {', '.join(CRON_FIELDS)}, "
                f"{', '.join(_QUALITY_NAMES)}, best_of_day, rules, tolerance, date_from, date_to"
            )
        all_rules = [dict(r) for r in rules or ()]
        fields = {k: v for k, v in cron.items() if v is not None}
        if fields:
            all_rules.append(fields)
        if sun is not None and (all_rules or best_of_day is not None):
            raise SelectionError("sun takes one frame per day per point: give no cron fields")
        if best_of_day is not None:
            if sun_window is not None:
                raise SelectionError("sun_window does not combine with best_of_day")
            if all_rules:
                raise SelectionError("best_of_day takes one frame per day: give no cron fields")
            return self.day_slice(
                best_of_day,
                tolerance=DEFAULT_SLICE_TOLERANCE if tolerance is DEFAULT_TOLERANCE else tolerance,
                date_from=date_from,
                date_to=date_to,
                **{**quality, "best_in_window": True},
            )
        span = resolve_range(date_from, date_to, self.zone)
        ids, utcs = self._times(span)
        windows: list[tuple[float, float]] | None = None
        window_gaps: list[SunGap] = []
        if sun_window is not None:
            windows, window_gaps = self._sun_windows(sun_window, span, utcs, tolerance)
            ids, utcs = keep_frames_in_windows(ids, utcs, windows)
        qf = QualityFilter.from_options(quality)
        found = self._filtered(span, ids, utcs, qf)
        if found is not None:
            ids, utcs = found.ids, found.utcs
        if sun is not None:
            lat, lon = self._place()
            points = [sun] if isinstance(sun, str) else list(sun)
            selection = select_sun(
                ids, utcs, points, self.zone, lat, lon, tolerance=tolerance, span=span,
                loader=self._load, windows=windows,
            )  # fmt: skip
        elif not all_rules:
            selection = select_all(ids, utcs, self.zone, span=span, loader=self._load)
        else:
            selection = select_cron(
                ids, utcs, all_rules, self.zone, tolerance=tolerance, span=span, loader=self._load,
                windows=windows,
            )  # fmt: skip
        selection = finish_selection(selection, found, qf)
        selection.sun_gaps = [*selection.sun_gaps, *window_gaps]
        return selection

    def _place(self) -> tuple[float, float]:
        if self.latitude is None or self.longitude is None:
            raise SelectionError(
                f"collection {self.name!r} has no latitude/longitude: sun selections need them "
                "(set latitude and longitude on the collection or its camera in the config, or "
                "pass Collection(..., latitude=, longitude=))"
            )
        return self.latitude, self.longitude

    def _sun_windows(
        self,
        window: str | tuple[str, str],
        span: DaySpan,
        utcs: Sequence[float],
        tolerance: timedelta | float,
    ) -> tuple[list[tuple[float, float]], list[SunGap]]:
        """The sun window's spans over the range (or the frames' extent) and its gap days."""
        start, end = parse_window(window)
        lat, lon = self._place()
        pad = tolerance.total_seconds() if isinstance(tolerance, timedelta) else float(tolerance)
        first = span.start if span.start is not None else (utcs[0] - pad if utcs else None)
        last = span.stop if span.stop is not None else (utcs[-1] + pad if utcs else None)
        if first is None or last is None:
            return [], []
        return window_spans(lat, lon, self.zone, start, end, first, last)

    def day_slice(
        self,
        times: time | str | Iterable[time | str] = "12:00",
        *,
        tolerance: timedelta | float = DEFAULT_SLICE_TOLERANCE,
        date_from: date | datetime | str | None = None,
        date_to: date | datetime | str | None = None,
        **quality: Any,
    ) -> Selection:
        """One frame per day nearest each clock time (``"12:00"`` or ``["09:00", "15:00"]``);
        the quality filters of :meth:`select` apply (``best_in_window=True``: the sharpest
        acceptable frame within the tolerance of each time)."""
        unknown = sorted(set(quality) - set(_QUALITY_NAMES))
        if unknown:
            raise SelectionError(
                f"unknown day slice option {unknown[0]!r}; accepted: {', '.join(_QUALITY_NAMES)}"
            )
        span = resolve_range(date_from, date_to, self.zone)
        ids, utcs = self._times(span)
        qf = QualityFilter.from_options(quality)
        found = self._filtered(span, ids, utcs, qf)
        if found is not None:
            ids, utcs = found.ids, found.utcs
        selection = select_day_slice(
            ids, utcs, times, self.zone, tolerance=tolerance, span=span, loader=self._load
        )
        return finish_selection(selection, found, qf)

    def _filtered(
        self, span: DaySpan, ids: Sequence[int], utcs: Sequence[float], qf: QualityFilter
    ) -> FilterResult | None:
        """:func:`~pylapse.selection.quality_filter.filter_candidates` of the span, with its
        dead frames and scores read from the index."""
        return filter_candidates(
            qf,
            ids,
            utcs,
            lambda: self._dead_frames(span),
            lambda wanted, columns: self._scores(span, wanted, columns),
        )

    def _dead_frames(self, span: DaySpan) -> DeadFrames:
        """The span's frames from a dead camera: blank ones and frozen runs, by the rule camera
        health uses (:mod:`pylapse.selection.dead_camera`), decided as their scores were
        written and read from the index's few dead rows (a run cut by the span counts whole)."""
        return self.index.dead_frames(self.key, span.start, span.stop)

    def _scores(
        self, span: DaySpan, ids: Sequence[int], columns: Sequence[str]
    ) -> dict[str, Sequence[Any]]:
        """Score ``columns`` aligned with ``ids``, read in one query over the span's rows."""
        return self.index.score_columns(self.key, span.start, span.stop, ids, columns)

    def slot_grid(
        self,
        width: timedelta | float = 10.0,
        *,
        origin: datetime | float = 0.0,
        date_from: date | datetime | str | None = None,
        date_to: date | datetime | str | None = None,
    ) -> Selection:
        """Frames normalised onto a ``width``-second grid (see :mod:`pylapse.selection.slots`)."""
        from pylapse.selection.slots import select_slot_grid

        span = resolve_range(date_from, date_to, self.zone)
        ids, utcs = self._times(span)
        return select_slot_grid(
            ids, utcs, self.zone, width=width, origin=origin, span=span, loader=self._load
        )

    @property
    def pictures(self) -> Pictures:
        """Pictures of many frames: ``collection.pictures.daystrip("2026-03-10")`` (also
        ``keogram``, ``timeslice``, ``nightstack``, ``daystack``, ``colormap``; see
        :mod:`pylapse.pictures`)."""
        from pylapse.export.pool import process_pool
        from pylapse.pictures.make import Pictures

        return Pictures(self, pool=process_pool)  # frames decoded in processes: every core

    def preset_selection(self, preset: ExportPreset) -> Selection:
        """The frames an export preset picks."""
        fields = {f: getattr(preset, f) for f in CRON_FIELDS if getattr(preset, f) is not None}
        quality = {f: getattr(preset, f, None) for f in _QUALITY_NAMES}
        best_of_day = getattr(preset, "best_of_day", None)
        sun = getattr(preset, "sun", None) or None
        sun_window = getattr(preset, "sun_window", None) or None
        tolerance: timedelta | float = getattr(
            preset, "tolerance", DEFAULT_TOLERANCE.total_seconds()
        )
        if best_of_day and "tolerance" not in getattr(preset, "model_fields_set", ()):
            tolerance = DEFAULT_TOLERANCE  # select() then takes the day slice's hour
        return self.select(
            best_of_day=best_of_day,
            sun=sun,
            sun_window=sun_window,
            **{k: v for k, v in quality.items() if v is not None and v is not False},
            tolerance=tolerance,
            date_from=getattr(preset, "date_from", None),
            date_to=getattr(preset, "date_to", None),
            **fields,
        )

    # --- exports --------------------------------------------------------------------------------

    def export_preset(
        self,
        preset: ExportPreset,
        output_dir: str | os.PathLike[str],
        options: ExportOptions,
        progress: ProgressCallback | None = None,
        cancel: threading.Event | None = None,
        *,
        selection: Selection | None = None,
        name: str = "",
        source_zone: tzinfo | None = None,
        export: Callable[..., ExportResult] | None = None,
    ) -> ExportResult:
        """Run an export preset: select its frames (``selection`` when the caller already
        chose them, as ``pylapse export`` does with its overrides) and export them into
        ``output_dir`` with ``options``; ``export`` writes them (``run_export``'s signature;
        by default ``run_export`` itself, in this process).

        The one way a preset runs, for the dashboard's export job, ``pylapse export`` and
        ``collection.export.run`` alike. A frame whose file no longer resolves inside
        :attr:`roots` (swapped for a link out since it was indexed) is skipped and listed.

        ``source_zone`` (0.2's ``timestamp_source_tz``) reads each frame's wall clock as a time
        in that zone for the stamp, whatever zone its name was read in.
        """
        from pylapse.export.run import run_export

        what = f" for {name}" if name else ""
        safe_report(progress, Progress("select", 0, 1, message=f"selecting frames{what}"))
        if selection is None:
            selection = self.preset_selection(preset)
        c = selection.counts
        safe_report(
            progress,
            Progress("select", 1, 1, message=f"{c.chosen} frames, {c.gaps} gaps of {c.targets}"),
        )
        if cancel is not None and cancel.is_set():
            raise Cancelled("cancelled before any frame was written")
        frames: Any = selection
        if source_zone is not None:
            frames = [
                (f.path, timeutil.localize(f.time.replace(tzinfo=None), source_zone))
                for f in selection.iter_frames()
            ]
        writer = export or run_export
        return writer(frames, output_dir, options, progress, cancel, roots=self.roots)

    def add_export(
        self,
        name: str,
        subdir: str | None = None,
        prefix: str = "",
        desc: str = "",
        **fields: Any,
    ) -> ExportPreset:
        """Declare an export (0.2's order: name, subdir, prefix, desc): cron fields choose the
        frames, the rest are export options (``drawtimestamp``, ``width`` ...); ``desc`` is kept
        and shown with the export. Run it with ``export(name)`` or ``export.run(name)``."""
        from pydantic import ValidationError

        from pylapse.config.presets import ExportPreset

        fields = {k: v for k, v in fields.items() if v is not None}  # 0.2: None = not given
        try:
            preset = ExportPreset(collection=self.key, subdir=subdir, prefix=prefix, **fields)
        except ValidationError as exc:
            problems = "; ".join(
                f"{'.'.join(str(p) for p in e['loc']) or name}: {e['msg']}" for e in exc.errors()
            )
            raise SelectionError(f"export {name!r}: {problems}") from None
        self.presets[name] = preset
        self.descriptions[name] = desc or ""
        return preset

    @property
    def exports(self) -> dict[str, CollectionExport]:
        """The declared exports by name (0.2's ``collection.exports``), each with ``run()``."""
        return {name: CollectionExport(self, name) for name in self.presets}

    def export_all(
        self, output_dir: str | os.PathLike[str] | None = None, **options: Any
    ) -> dict[str, ExportResult]:
        """Run every declared export (each into its own ``subdir``); results by name."""
        return {name: self.export.run(name, output_dir, **options) for name in self.presets}


class CollectionExport:
    """One declared export of a collection, as 0.2's ``collection.exports[name]``."""

    def __init__(self, collection: Collection, name: str) -> None:
        self.collection = collection
        self.name = name

    @property
    def preset(self) -> ExportPreset:
        return self.collection.export._preset(self.name)

    @property
    def subdir(self) -> str | None:
        return self.preset.subdir

    @property
    def prefix(self) -> str:
        return self.preset.prefix

    @property
    def desc(self) -> str:
        return self.collection.descriptions.get(self.name, "")

    def cron(self) -> dict[str, Any]:
        """The cron fields that choose the frames (only those given)."""
        preset = self.preset
        return {f: getattr(preset, f) for f in CRON_FIELDS if getattr(preset, f) is not None}

    def run(
        self, outputdir: str | os.PathLike[str] | None = None, **writer_args: Any
    ) -> ExportResult:
        """Run it into ``outputdir/subdir`` (default: the collection's export folder)."""
        return self.collection.export.run(self.name, outputdir, **writer_args)

    def __str__(self) -> str:
        cron = ", ".join(f"{k}={v!r}" for k, v in self.cron().items())
        return (
            f"Export: {self.name} - Subdir: {self.subdir} - Desc: {self.desc} - "
            f"Prefix: {self.prefix} - cron[{cron}]"
        )

    def __repr__(self) -> str:
        return f"<Export {self.name!r} of {self.collection.name!r}: {self.desc or 'no desc'}>"


def _legacy_progress(
    callback: Callable[[int, int, str], None], then: ProgressCallback | None
) -> ProgressCallback:
    """0.2's ``progress_callback(completed, total, message)`` fed from the export's progress."""

    def report(p: Progress) -> None:
        if p.stage == "process":
            callback(p.done, p.total, p.message or "")
        if then is not None:
            then(p)

    return report


class CollectionExports:
    """``collection.export``: runs the collection's declared exports.

    Callable as 0.2 spelled it, ``collection.export(name, **writer_args)``, and as
    ``collection.export.run(name, output_dir, **options)``.
    """

    def __init__(self, collection: Collection) -> None:
        self._collection = collection

    def __call__(
        self, name: str, output_dir: str | os.PathLike[str] | None = None, **options: Any
    ) -> ExportResult:
        """Same as :meth:`run`."""
        return self.run(name, output_dir, **options)

    def options(
        self, name: str, output_dir: Path, preset: ExportPreset, options: dict[str, Any]
    ) -> ExportOptions:
        """The options a run of export ``name`` into ``output_dir`` writes with: the preset's,
        overridden by the caller's (``pylapse.compat`` starts from 0.2's defaults instead)."""
        from pylapse.export.options import ExportOptions

        return ExportOptions.from_mapping(preset, **options)

    def add_export(
        self,
        name: str,
        subdir: str | None = None,
        prefix: str = "",
        desc: str = "",
        **fields: Any,
    ) -> ExportPreset:
        """Same as :meth:`Collection.add_export` (the original pyLapse spelled it here)."""
        return self._collection.add_export(name, subdir, prefix, desc, **fields)

    def output_dir(self, name: str, output_dir: str | os.PathLike[str] | None = None) -> Path:
        """Where export ``name`` writes: ``output_dir`` (or the preset's, or the collection's
        export folder) joined with the preset's ``subdir``."""
        preset = self._preset(name)
        coll = self._collection
        base = output_dir or preset.output_dir or coll.export_dir
        if base is None:
            raise SelectionError(
                f"export {name!r}: no output folder (pass one, or give the collection an "
                "export_dir)"
            )
        return Path(base) / preset.subdir if preset.subdir else Path(base)

    def _preset(self, name: str) -> ExportPreset:
        presets = self._collection.presets
        if name not in presets:
            known = ", ".join(sorted(presets)) or "none; declare one with add_export()"
            raise SelectionError(f"no export named {name!r}; declared: {known}")
        preset: ExportPreset = presets[name]
        return preset

    def run(
        self,
        name: str,
        output_dir: str | os.PathLike[str] | None = None,
        *,
        progress: ProgressCallback | None = None,
        cancel: threading.Event | None = None,
        progress_callback: Callable[[int, int, str], None] | None = None,
        timestamp_source_tz: str | None = None,
        **options: Any,
    ) -> ExportResult:
        """Select the preset's frames and export them (``prefix``, ``drawtimestamp``,
        ``optimize``, ``width`` ..., and 0.2's writer options such as ``resize``,
        ``resolution``, ``timestampformat``, override the preset's options).

        ``progress_callback`` is 0.2's ``(completed, total, message)`` callback;
        ``timestamp_source_tz`` the zone the frames' wall clocks are in for the stamp (0.2's
        meaning; the collection's ``timezone`` does this for every use of the frames).
        """
        preset = self._preset(name)
        target = self.output_dir(name, output_dir)
        opts = self.options(name, target, preset, options)  # bad options fail before selecting
        if progress_callback is not None:
            progress = _legacy_progress(progress_callback, progress)
        zone = timeutil.zone(timestamp_source_tz) if timestamp_source_tz else None
        return self._collection.export_preset(
            preset, target, opts, progress, cancel, name=name, source_zone=zone
        )


def _place(collection: Any, camera: Any) -> tuple[float | None, float | None]:
    """A configured collection's latitude/longitude: its own, else its camera's."""
    own = (getattr(collection, "latitude", None), getattr(collection, "longitude", None))
    if None not in own or camera is None:
        return own
    return camera.latitude, camera.longitude
