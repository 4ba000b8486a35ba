"""The use case: import 0.2's files into the config and the job history, by command or once at
first start."""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from pylapse.jobs.history import FinishedJob, add_finished, find_by_param
from pylapse.tasks.import_v02.files import (
    COLLECTIONS_FILE,
    HISTORY_FILE,
    find_v02_files,
    read_collections,
    read_history,
)
from pylapse.tasks.import_v02.plan import IMPORTED_FROM, JobRow, Planner
from pylapse.tasks.import_v02.report import ImportReport

if TYPE_CHECKING:
    from pylapse.config.models import Config

log = logging.getLogger(__name__)

MARKER_FILE = "imported-from-0.2.json"  # in the data folder: the first-start import ran


# -- the job history -----------------------------------------------------------------------------


def _known_jobs(db_path: Path) -> set[tuple[str, str]]:
    """(kind, 0.2 id) of the jobs an earlier import added."""
    found = find_by_param(db_path, "imported_from", IMPORTED_FROM)
    return {(kind, str(params.get("v02_id"))) for kind, params in found}


def _insert_jobs(db_path: Path, rows: list[JobRow]) -> list[int]:
    return add_finished(
        db_path,
        [
            FinishedJob(
                kind=row.kind,
                title=row.title,
                when=row.when,
                steps=("select", "process") if row.kind == "export" else ("select", "encode"),
                params=row.params,
                result=row.result,
                total=row.total,
                message=f"imported from {IMPORTED_FROM}",
            )
            for row in rows
        ],
    )


# -- the use case --------------------------------------------------------------------------------


def import_v02(
    path: str | os.PathLike[str],
    config: Config,
    db_path: str | os.PathLike[str],
    *,
    save: Callable[[Config], Path | None],
    dry_run: bool = False,
) -> ImportReport:
    """Import 0.2's ``collections.json`` and ``history.json`` found at ``path`` (a folder or one
    of the files) into ``config`` (written by ``save``, e.g. :func:`save_config` with the stamp
    the config was loaded with) and the job history in ``db_path``.

    A file that cannot be read raises :class:`ImportV02Error` before anything is written; an
    entry that cannot be used is skipped and reported. With ``dry_run`` nothing is written.
    """
    files = find_v02_files(path)
    collections = read_collections(files.collections) if files.collections else {}
    history = read_history(files.history) if files.history else {"exports": [], "videos": []}
    db_file = Path(db_path)
    planner = Planner(config, files, _known_jobs(db_file))
    planner.add_collections(collections)
    planner.add_history(history)
    report = ImportReport(files.folder, files.paths, dry_run, planner.items)
    if planner.collections or planner.presets:
        updated = config.model_copy(
            update={
                "collections": {**config.collections, **planner.collections},
                "exports": {**config.exports, **planner.presets},
            }
        )
        if dry_run:
            _validate(updated)
        else:
            report.config_saved = save(updated)
    if planner.jobs and not dry_run:
        for row, job_id in zip(planner.jobs, _insert_jobs(db_file, planner.jobs), strict=True):
            item = report.items[row.item]
            report.items[row.item] = replace(item, target=f"job #{job_id}")
    return report


def _validate(config: Config) -> None:
    """What the save would check: the file loads back (dry runs find problems too)."""
    from pylapse.config.file import parse_config, to_json

    parse_config(json.loads(to_json(config)), config.source)


# -- on first start ------------------------------------------------------------------------------


class _Host(Protocol):
    """What the first-start import needs of a running pyLapse (the Runtime)."""

    config_path: Path | None
    data_path: Path
    db_path: Path

    def config_snapshot(self) -> tuple[Config, str | None]: ...

    def apply_config(self, new_config: Config, *, expect: str | None = None) -> Path | None: ...


def import_at_first_start(host: _Host) -> ImportReport | None:
    """Import the 0.2 files beside the config once (a marker in the data folder remembers it),
    logging the report; never raises (a problem is logged and the import is tried at the next
    start). None when there was nothing to do."""
    if host.config_path is None:
        return None
    folder = host.config_path.resolve().parent
    marker = host.data_path / MARKER_FILE
    beside = [folder / COLLECTIONS_FILE, folder / HISTORY_FILE]
    if marker.exists() or not any(p.is_file() for p in beside):
        return None
    try:
        config, token = host.config_snapshot()
        report = import_v02(
            folder, config, host.db_path, save=lambda c: host.apply_config(c, expect=token)
        )
    except Exception as exc:  # start-up goes on; the log says why, the next start tries again
        log.warning("pyLapse 0.2 data beside the config was not imported: %s", exc)
        return None
    write_marker(host.data_path, report)
    for line in report.lines():
        log.info("%s", line)
    return report


def write_marker(data_path: Path, report: ImportReport) -> None:
    """Remember that the 0.2 files beside the config were imported (first start skips them)."""
    from pylapse import storage

    data_path.mkdir(parents=True, exist_ok=True)
    body = {"imported": datetime.now(UTC).isoformat(), **report.to_dict()}
    storage.atomic_write(data_path / MARKER_FILE, json.dumps(body, indent=2).encode("utf-8"))
