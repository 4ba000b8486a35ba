"""Bringing pyLapse 0.2's web data along: its ``collections.json`` and ``history.json``.

pyLapse 0.2's dashboard kept two JSON files beside its config. ``collections.json`` holds the
saved collections keyed by id (``name``, ``path``, ``date_source``, ``ext``, ``timezone``), each
with its export settings nested under ``exports`` (keyed by id: ``input_dir``, ``output_dir``,
cron ``schedules``, the writer options such as ``resize``, ``quality``, ``prefix``,
``drawtimestamp``). ``history.json`` lists what ran: ``exports`` (``input_dir``, ``output_dir``,
``image_count``) and ``videos`` (``input_dir``, ``output_path``, ``fps``, ``codec``,
``file_size``), each with an ``id`` and ``created_at``, newest first.

:func:`import_v02` maps them onto today's data: collections into the config's ``collections``,
their exports into export presets (``exports``), and the history into finished ``export`` and
``render`` jobs of the job history (marked ``imported_from: "pyLapse 0.2"`` with their 0.2 id),
so the dashboard's Exports and Videos pages list them. It is idempotent: a collection whose
folder is already a collection, a preset equal to one already saved and a history entry whose
0.2 id is already in the job history are reported as already there and not added again. A name
taken by something else gets a suffix (``porch-2``, "Porch 2") and the report says so.

The config is written through :func:`pylapse.config.file.save_config` by the caller's ``save``
(atomic, backed up, a compare-and-swap, comments kept), before the history rows, so a refused save
changes nothing. :func:`import_at_first_start` runs the import once when a runtime starts with
the two files beside its config, and logs the report.
"""

from __future__ import annotations

from pylapse.tasks.import_v02.files import COLLECTIONS_FILE, HISTORY_FILE, find_v02_files
from pylapse.tasks.import_v02.plan import HISTORY_KEPT, IMPORTED_FROM
from pylapse.tasks.import_v02.report import ImportReport, ImportV02Error, Outcome, ReportItem
from pylapse.tasks.import_v02.run import (
    MARKER_FILE,
    import_at_first_start,
    import_v02,
    write_marker,
)

__all__ = [
    "COLLECTIONS_FILE",
    "HISTORY_FILE",
    "HISTORY_KEPT",
    "IMPORTED_FROM",
    "MARKER_FILE",
    "ImportReport",
    "ImportV02Error",
    "Outcome",
    "ReportItem",
    "find_v02_files",
    "import_at_first_start",
    "import_v02",
    "write_marker",
]
