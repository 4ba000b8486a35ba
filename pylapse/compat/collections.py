"""0.2's ``pyLapse.img_seq.collections``: ``Collection`` and ``Export`` on today's engine.

``Collection(name, export_dir, collection_dir, ext="jpg", mask="*", filematch=None)`` loads its
frames as an :class:`~pylapse.compat.image.ImageSet` (``images``), keeps its exports in
``exports`` (a dict of :class:`Export`), and writes them with 0.2's defaults (resize to fit
1920x1080, quality 50, ``"{prefix} {NNNNN}.jpg"``). Selection is today's: each cron target takes
the nearest frame within 5 minutes (0.2's ``fuzzy``), days and times in the collection's zone.
"""

from __future__ import annotations

import os
import re
from typing import Any

from apscheduler.triggers.cron import CronTrigger

from pylapse.collection import Collection as EngineCollection
from pylapse.compat.engine import V02Collection
from pylapse.compat.image import ImageSet
from pylapse.export.run import ExportResult

__all__ = ["CRON_ARG_NAMES", "Collection", "Export"]

CRON_ARG_NAMES = ("year", "month", "day", "week", "day_of_week", "hour", "minute", "second")


class Export(CronTrigger):  # type: ignore[misc]
    """A cron-chosen set of frames written into ``subdir``: 0.2's ``Export`` (an APScheduler
    ``CronTrigger``). ``start_date``/``end_date`` bound the days exported (0.2 took and
    ignored them); ``timezone`` is the trigger's, as in 0.2."""

    def __init__(
        self,
        name: str,
        subdir: str,
        imageset: ImageSet,
        prefix: str | None = None,
        desc: str | None = None,
        year: str | int | None = None,
        month: str | int | None = None,
        day: str | int | None = None,
        week: str | int | None = None,
        day_of_week: str | int | None = None,
        hour: str | int | None = None,
        minute: str | int | None = None,
        second: str | int | None = None,
        start_date: str | None = None,
        end_date: str | None = None,
        timezone: str | None = None,
    ) -> None:
        given = {
            "year": year,
            "month": month,
            "day": day,
            "week": week,
            "day_of_week": day_of_week,
            "hour": hour,
            "minute": minute,
            "second": second,
        }
        self.cron_fields = {k: str(v) for k, v in given.items() if v is not None}
        super().__init__(**self.cron_fields, timezone=timezone)
        self.imageset = imageset
        self.name = name
        self.subdir = subdir
        self.desc = desc
        self.prefix = prefix
        self.start_date_filter = start_date
        self.end_date_filter = end_date

    def __str__(self) -> str:
        return (
            f"Export: {self.name} - Subdir: {self.subdir} - Desc: {self.desc} - "
            f"Prefix: {self.prefix} - {super().__str__()}"
        )

    def run(self, outputdir: str | os.PathLike[str], **writer_args: Any) -> ExportResult:
        """Export the chosen frames into ``outputdir/subdir`` with 0.2's writer options and
        defaults. The previous export there is replaced once the new one is complete; other
        files in the folder are left alone (0.2 deleted every ``*.jpg`` first)."""
        coll = self.imageset.collection
        bounds = {"date_from": self.start_date_filter, "date_to": self.end_date_filter}
        # the engine's add_export: a 0.2 Collection's own would replace this Export in its
        # ``exports`` and drop the date bounds
        EngineCollection.add_export(
            coll,
            self.name,
            self.subdir,
            self.prefix or "",
            self.desc or "",
            **self.cron_fields,
            **{k: v for k, v in bounds.items() if v},
        )
        return coll.export.run(self.name, outputdir, **writer_args)


class Collection(V02Collection):
    """0.2's ``Collection``: a folder of frames, its ``images`` and named ``exports``.

    The engine's whole ``Collection`` API is here too (``select``, ``day_slice``, ``timezone=``
    ...), with 0.2's export defaults.
    """

    def __init__(
        self,
        name: str,
        export_dir: str | os.PathLike[str],
        collection_dir: str | os.PathLike[str],
        ext: str = "jpg",
        mask: str = "*",
        filematch: re.Pattern[str] | str | None = None,
        **engine: Any,
    ) -> None:
        engine.setdefault("date_source", "filename")
        super().__init__(name, export_dir, collection_dir, ext, mask, filematch, **engine)
        self._v02_exports: dict[str, Export] = {}
        self.images = ImageSet.of(self)

    def __str__(self) -> str:
        return (
            f"Collection: {self.name}, Location: {self.collection_dir}, "
            f"Images: {self.images.imagecount}"
        )

    @property
    def exports(self) -> dict[str, Export]:  # type: ignore[override]
        """The exports added, by name (0.2's dict of :class:`Export`)."""
        return self._v02_exports

    def add_export(  # type: ignore[override]
        self, name: str, subdir: str, prefix: str = "", desc: str = "", **kwargs: Any
    ) -> None:
        """Add an export; cron fields in ``kwargs`` choose its frames (others are ignored, as
        in 0.2)."""
        cron = {k: v for k, v in kwargs.items() if k in CRON_ARG_NAMES and v is not None}
        super().add_export(name, subdir, prefix, desc, **cron)  # checks the fields now
        self._v02_exports[name] = Export(
            name, subdir, self.images, prefix=prefix, desc=desc, **cron
        )

    def export_all(
        self, output_dir: str | os.PathLike[str] | None = None, **writer_args: Any
    ) -> dict[str, ExportResult]:
        """Run every export into the collection's export folder (``output_dir`` elsewhere)."""
        target = output_dir if output_dir is not None else self.export_dir
        if target is None:
            raise ValueError(f"collection {self.name!r} has no export_dir; pass output_dir")
        return {
            name: export.run(target, **writer_args) for name, export in self._v02_exports.items()
        }
