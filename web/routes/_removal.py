"""Removing cameras and collections, shared by the pages and the API (not a router itself).

The rules live in :mod:`pylapse.tasks.removal`; here they meet the running app: the config editor
(the save), the index (rows forgotten or moved) and the job runner (deleting files is a job
with progress and cancel, since a collection can hold a million files).
"""

from __future__ import annotations

import contextlib
import threading
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from fastapi import HTTPException

from pylapse.config.models import Config
from pylapse.progress import ProgressCallback
from pylapse.tasks import removal
from pylapse.tasks.removal import FilesPreview, KeptFrames, RemovalRefused
from web.routes import _media as m

if TYPE_CHECKING:
    from pylapse.collection import Collection
    from pylapse.runtime import Runtime
    from web.deps import ConfigEditor

JOB_KINDS = ("scan", "export", "render", "delete")  # jobs that read a collection's frames
_JOB_WORDS = {"scan": "a scan", "export": "an export", "render": "a render",
              "delete": "a deletion"}  # fmt: skip


@dataclass
class RemovalPlan:
    """What removing collection ``id`` would do, and what stands in the way."""

    id: str
    presets: list[str]
    blockers: list[str]
    preview: FilesPreview | None = None  # only when deleting the files is asked about
    notes: list[str] = field(default_factory=list)


def plan(runtime: Runtime, collection_id: str, coll: Collection, delete_files: bool) -> RemovalPlan:
    config = runtime.config
    blockers = removal.removal_blockers(config, collection_id)
    for kind in JOB_KINDS:
        if m.active_jobs(runtime, kind, collection=collection_id):
            blockers.append(
                f"{_JOB_WORDS[kind]} of this collection is running: wait for it to finish or "
                "cancel it"
            )
    preview = removal.preview_files(coll, config.root_paths) if delete_files else None
    return RemovalPlan(collection_id, removal.presets_using(config, collection_id), blockers,
                       preview)  # fmt: skip


@dataclass(frozen=True)
class Refusal:
    message: str
    confirm: bool = False  # the request must confirm (again) how many files it deletes


def refusal(
    runtime: Runtime,
    p: RemovalPlan,
    *,
    remove_presets: bool,
    delete_files: bool,
    expect_files: int | None,
) -> Refusal | None:
    """Why this removal request is refused now, or None. Deleting needs the number of files
    the user was shown (``expect_files``): a collection that changed since is shown again."""
    if p.blockers:
        return Refusal(p.blockers[0])
    try:  # the same check the save makes, on a copy: nothing is changed yet
        removal.remove_collection(
            runtime.config.model_copy(deep=True), p.id, remove_presets=remove_presets
        )
    except RemovalRefused as exc:
        return Refusal(str(exc))
    if delete_files and p.preview is not None:
        files = p.preview.files
        if p.preview.problem:
            return Refusal(f"the files cannot be deleted: {p.preview.problem}")
        if expect_files is None:
            return Refusal(
                f"confirm the number of files to delete: expect_files must be {files}", True
            )
        if expect_files != files:
            return Refusal(
                f"the collection changed since the preview: it now has {files:,} files, not "
                f"{expect_files:,}; check the numbers again",
                True,
            )
    return None


@dataclass(frozen=True)
class Removed:
    presets: list[str]
    forgotten: int | None  # index rows forgotten now (None: the deletion job forgets them)
    job_id: int | None  # the job deleting the files
    problem: str | None = None  # the files could not be deleted after all (say so)


def perform(
    runtime: Runtime, editor: ConfigEditor, collection_id: str, coll: Collection, *,
    remove_presets: bool, delete_files: bool,
) -> Removed:  # fmt: skip
    """Take the collection out of the config, then forget its rows or start deleting its files.

    Raises :class:`RemovalRefused` or ``ConfigError`` (nothing changed) when the save fails.
    """
    presets: list[str] = []

    def mutate(config: Config) -> None:
        presets.extend(
            removal.remove_collection(config, collection_id, remove_presets=remove_presets)
        )

    editor.apply(mutate)
    if not delete_files:
        return Removed(presets, runtime.index.drop(coll.key), None)
    roots = list(runtime.config.root_paths)

    def delete(progress: ProgressCallback, cancel: threading.Event) -> dict[str, Any]:
        try:
            return removal.delete_frames(coll, roots, progress=progress, cancel=cancel).summary()
        except RemovalRefused:  # the folder went since the preview: the collection is gone
            runtime.index.drop(coll.key)  # from the config already, so forget its rows too
            raise

    params = {"collection": collection_id, "folder": str(coll.collection_dir)}
    try:
        job_id = m.submit(runtime, "delete", f"Delete the frames of {coll.name}", delete,
                          ("delete",), params)  # fmt: skip
    except HTTPException as exc:  # no runner, or its queue is full: the files stay
        return Removed(presets, runtime.index.drop(coll.key), None, str(exc.detail))
    return Removed(presets, None, job_id)


# -- cameras -------------------------------------------------------------------------------------


def remove_camera(runtime: Runtime, editor: ConfigEditor, camera_id: str) -> KeptFrames:
    """Take the camera out of the config keeping its frames as a collection (see
    :func:`pylapse.tasks.removal.remove_camera`); raises ``ConfigError``/``OSError`` if not
    saved."""
    kept: list[KeptFrames] = []
    editor.apply(
        lambda config: kept.append(removal.remove_camera(config, camera_id, runtime.index))
    )
    result = kept[0]
    rescan = list(result.rescan)
    try:
        result.apply(runtime.index)
    except ValueError:  # its own id got frames meanwhile: index the folder under it instead
        rescan.append(result.collection or camera_id)
    for collection_id in rescan:
        with contextlib.suppress(HTTPException):  # no job runner: a rescan by hand does it
            m.start_scan(runtime, collection_id)
    return result


def removal_error(exc: Exception) -> str:
    """The message for a removal the save refused."""
    return str(exc) if isinstance(exc, RemovalRefused) else f"Not removed: {exc}"
