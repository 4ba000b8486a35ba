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
import path ``pyLapse.img_seq``) keeps 0.2's defaults too. Where the index lives (shared, or a
private one in the user's cache folder): :mod:`pylapse.collection.cache`.
"""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import date, datetime, time, timedelta, tzinfo
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pylapse import storage, timeutil
from pylapse.collection import v02_args
from pylapse.collection.cache import open_private_index
from pylapse.collection.configured import configured_arguments, configured_presets
from pylapse.collection.exports import CollectionExport, CollectionExports, new_preset, run_preset
from pylapse.collection.folder import FolderStatus, folder_status
from pylapse.collection.frames import candidate_times, filtered_candidates, load_frames
from pylapse.collection.select_options import (
    check_day_slice_options,
    preset_select_args,
    read_select_options,
)
from pylapse.collection.sun import require_place, sun_window_spans
from pylapse.selection.quality_filter import FilterResult, QualityFilter, finish_selection
from pylapse.selection.selection import (
    DEFAULT_SLICE_TOLERANCE,
    DEFAULT_TOLERANCE,
    Selection,
    select_all,
    select_cron,
    select_day_slice,
    select_sun,
)
from pylapse.selection.sun import SunGap, keep_frames_in_windows
from pylapse.selection.targets import DaySpan, SelectionError, resolve_range

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

__all__ = ["Collection"]


def _zone(value: str | tzinfo | None) -> tzinfo:
    return value if isinstance(value, tzinfo) else timeutil.zone(value)


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
        v02_args.check_ext(name, ext)
        if filematch is not None:
            if pattern is not None:
                raise TypeError("give filematch (0.2's name) or pattern, not both")
            pattern = v02_args.filematch(filematch)
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
            tuple(extensions) if extensions else v02_args.extensions(ext) if ext else None
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
        coll = cls(**configured_arguments(config, collection_id), index=index)
        coll.presets.update(configured_presets(config, collection_id))
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
                self._index = open_private_index(self.collection_dir)
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
        index = self._index
        return folder_status(
            self.collection_dir, None if index is None else lambda: index.count(self.key)
        )

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
        return candidate_times(index, self.key, span, self.mask)

    def _load(self, ids: Sequence[int], utcs: Sequence[float]) -> list[Frame]:
        """Frames for ``ids`` (time order): dense runs by one time-range query, sparse by id."""
        return load_frames(self.index, self.key, ids, utcs)

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
        quality, all_rules = read_select_options(
            options, rules, sun=sun, best_of_day=best_of_day, sun_window=sun_window
        )
        if best_of_day is not None:
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
            windows, window_gaps = sun_window_spans(
                sun_window, self._place, self.zone, span, utcs, tolerance
            )
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
        return require_place(self.name, self.latitude, self.longitude)

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
        check_day_slice_options(quality)
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
        """The candidates the quality filter ``qf`` keeps (None: it keeps all)."""
        return filtered_candidates(self.index, self.key, span, ids, utcs, qf)

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
        return self.select(**preset_select_args(preset))

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
        return run_preset(
            lambda: selection if selection is not None else self.preset_selection(preset),
            output_dir,
            options,
            progress,
            cancel,
            roots=self.roots,
            name=name,
            source_zone=source_zone,
            export=export,
        )

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
        preset = new_preset(self.key, name, subdir, prefix, fields)
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
