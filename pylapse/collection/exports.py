"""A collection's declared exports: ``collection.export`` (:class:`CollectionExports`, which runs
them, callable as 0.2 spelled it) and ``collection.exports[name]`` (:class:`CollectionExport`)."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from pylapse import timeutil
from pylapse.progress import Cancelled, Progress, safe_report
from pylapse.selection.targets import CRON_FIELDS, SelectionError

if TYPE_CHECKING:
    from datetime import tzinfo

    from pylapse.config.presets import ExportPreset
    from pylapse.export.options import ExportOptions
    from pylapse.export.run import ExportResult
    from pylapse.progress import ProgressCallback
    from pylapse.selection.selection import Selection

__all__ = [
    "CollectionExport",
    "CollectionExports",
    "ExportingCollection",
    "new_preset",
    "run_preset",
]


def run_preset(
    choose: Callable[[], Selection],
    output_dir: str | os.PathLike[str],
    options: ExportOptions,
    progress: ProgressCallback | None,
    cancel: threading.Event | None,
    *,
    roots: tuple[Path, ...],
    name: str = "",
    source_zone: tzinfo | None = None,
    export: Callable[..., ExportResult] | None = None,
) -> ExportResult:
    """Select a preset's frames with ``choose`` and export them into ``output_dir``, reporting
    the selection as the job's first step; the body of :meth:`Collection.export_preset` (its
    docstring says what each argument means)."""
    from pylapse.export.run import run_export

    what = f" for {name}" if name else ""
    safe_report(progress, Progress("select", 0, 1, message=f"selecting frames{what}"))
    selection = choose()
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
    return writer(frames, output_dir, options, progress, cancel, roots=roots)


def new_preset(
    key: str, name: str, subdir: str | None, prefix: str, fields: dict[str, Any]
) -> ExportPreset:
    """The preset :meth:`Collection.add_export` declares for collection ``key``; a field that
    does not validate is a :class:`SelectionError` naming the export."""
    from pydantic import ValidationError

    from pylapse.config.presets import ExportPreset

    fields = {k: v for k, v in fields.items() if v is not None}  # 0.2: None = not given
    try:
        return ExportPreset(collection=key, subdir=subdir, prefix=prefix, **fields)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or name}: {e['msg']}" for e in exc.errors()
        )
        raise SelectionError(f"export {name!r}: {problems}") from None


class ExportingCollection(Protocol):
    """What the export facade needs of a collection (``Collection`` has it); a protocol so this
    module does not import the collection module that imports it."""

    name: str
    export_dir: Path | None
    presets: dict[str, ExportPreset]
    descriptions: dict[str, str]
    export: CollectionExports

    def add_export(
        self,
        name: str,
        subdir: str | None = None,
        prefix: str = "",
        desc: str = "",
        **fields: Any,
    ) -> ExportPreset: ...

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
    ) -> ExportResult: ...


class CollectionExport:
    """One declared export of a collection, as 0.2's ``collection.exports[name]``."""

    def __init__(self, collection: ExportingCollection, name: str) -> None:
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

    def __init__(self, collection: ExportingCollection) -> None:
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
