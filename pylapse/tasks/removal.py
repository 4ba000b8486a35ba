"""Removing cameras and collections without losing what the user captured.

A removed camera's frames stay a collection
    :func:`remove_camera` takes the camera out of the config and keeps its frames: the camera's
    own collection (id = camera id) becomes a configured folder collection with the same id,
    name, folder and zone, so its index rows, its page and the export presets that name it go
    on working. A configured collection that named the camera keeps its id and loses only the
    ``camera`` link; its rows move to its own id (:meth:`FrameIndex.rename`: one row changes,
    however many frames).

A removed collection leaves its files
    :func:`remove_collection` takes a collection (and, only when asked, the export presets that
    use it) out of the config; the caller then forgets its rows (:meth:`FrameIndex.drop`).
    Frame files are deleted only by :func:`delete_frames`, which the user asks for after
    :func:`preview_files` has told them how many files and bytes that is (from the index: no
    walk of a million files). It deletes only files the index lists, only inside the
    collection's folder and a storage root, then the folders below it that are left empty.
"""

from __future__ import annotations

import os
import stat
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from pylapse import storage
from pylapse.config.models import CollectionConfig, Config
from pylapse.progress import Cancelled, Progress, ProgressCallback, Throttle

if TYPE_CHECKING:
    from pylapse.collection import Collection
    from pylapse.index.store import FrameIndex

__all__ = [
    "SIZE_SAMPLE",
    "DeleteResult",
    "FilesPreview",
    "KeptFrames",
    "RemovalRefused",
    "delete_frames",
    "presets_using",
    "preview_files",
    "removal_blockers",
    "remove_camera",
    "remove_collection",
]

SIZE_SAMPLE = 500  # files stat-ed at most for a preview; beyond, sizes are estimated from them
_MAX_NOTES = 20


class RemovalRefused(ValueError):
    """A removal that would lose or break something; the message says what to do instead."""


# -- cameras -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class KeptFrames:
    """Where :func:`remove_camera` kept a removed camera's frames."""

    collection: str | None  # the collection that holds them now; None: the camera had none
    renamed: tuple[str, str] | None = None  # index key (old, new), for :meth:`apply`
    rescan: tuple[str, ...] = ()  # more collections over the camera's frames, to index anew

    def apply(self, index: FrameIndex) -> None:
        """Move the index rows to the kept collection's id; call once the config is saved."""
        if self.renamed is not None:
            index.rename(*self.renamed)


def remove_camera(config: Config, camera_id: str, index: FrameIndex) -> KeptFrames:
    """Take camera ``camera_id`` out of ``config`` (changed in place), keeping its frames.

    A camera with frames and no collection of its own gets one with its id, name, output
    folder and zone. Collections that named the camera keep their ids; one of them (the one
    with the camera's id, else the first) takes over the camera's index rows, others are listed
    in ``rescan``. A camera without frames leaves nothing behind.
    """
    camera = config.cameras.pop(camera_id)
    named = sorted(cid for cid, c in config.collections.items() if c.camera == camera_id)
    for cid in named:
        unset = config.collections[cid].model_dump(exclude_unset=True, exclude={"camera"})
        config.collections[cid] = CollectionConfig.model_validate(unset)
    if not named:
        if index.count(camera_id) == 0:
            return KeptFrames(None)
        fields = {"name": camera.name, "path": camera.output_dir}
        if camera.timezone:
            fields["timezone"] = camera.timezone
        config.collections[camera_id] = CollectionConfig(**fields)
        return KeptFrames(camera_id)
    keeper = camera_id if camera_id in named else named[0]
    others = tuple(c for c in named if c != keeper)
    if keeper == camera_id:
        return KeptFrames(keeper, rescan=others)
    if index.count(keeper):  # it had frames under its own id before it named the camera
        return KeptFrames(keeper, rescan=(keeper, *others))
    return KeptFrames(keeper, renamed=(camera_id, keeper), rescan=others)


# -- collections ---------------------------------------------------------------------------------


def presets_using(config: Config, collection_id: str) -> list[str]:
    """Ids of the export presets that export ``collection_id``."""
    return sorted(k for k, p in config.exports.items() if p.collection == collection_id)


def removal_blockers(config: Config, collection_id: str) -> list[str]:
    """Why ``collection_id`` cannot be removed now; empty when it can.

    A collection a configured camera fills stays while the camera captures into it: removing
    it would only bring back the camera's own collection over the same frames.
    """
    configured = config.collections.get(collection_id)
    camera = configured.camera if configured is not None else collection_id
    if camera and camera in config.cameras:
        return [
            f"collection {collection_id!r} holds the frames camera {camera!r} captures; "
            "remove the camera first (its frames stay, as a collection you can then remove)"
        ]
    return []


def remove_collection(
    config: Config, collection_id: str, *, remove_presets: bool = False
) -> list[str]:
    """Take ``collection_id`` out of ``config`` (changed in place); returns the ids of the
    export presets removed with it.

    Presets that use the collection are removed only with ``remove_presets``; otherwise the
    removal is refused naming them, since a preset without its collection cannot run (and the
    config would not load). Their exported files are never touched.
    """
    if collection_id not in config.all_collections():
        raise KeyError(f"no collection {collection_id!r}")
    problems = removal_blockers(config, collection_id)
    if problems:
        raise RemovalRefused(problems[0])
    presets = presets_using(config, collection_id)
    if presets and not remove_presets:
        named = ", ".join(repr(p) for p in presets)
        raise RemovalRefused(
            f"export preset{'s' if len(presets) > 1 else ''} {named} "
            f"use{'' if len(presets) > 1 else 's'} collection {collection_id!r}: remove "
            f"{'them' if len(presets) > 1 else 'it'} too (exported files stay where they are) "
            "or point them at another collection first"
        )
    for preset in presets:
        del config.exports[preset]
    del config.collections[collection_id]
    return presets


# -- the files -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class FilesPreview:
    """What deleting a collection's frame files would delete, from the index."""

    folder: Path
    files: int  # files the index lists
    bytes: int
    estimated: bool = False  # part of ``bytes`` extrapolated from a sample of the files
    sampled: int = 0  # files stat-ed because the index did not know their size
    problem: str | None = None  # why nothing can be deleted now


def _confined(collection: Collection, roots: Iterable[Path]) -> tuple[Path | None, str | None]:
    """The collection's folder, resolved inside a storage root, or why it cannot be used."""
    status = collection.folder_status()
    if status.missing:
        return None, f"{status.problem}: there is nothing to delete now"
    try:
        return storage.confine(collection.collection_dir, roots), None
    except storage.PathNotAllowed as exc:
        return None, f"pyLapse deletes files only inside the storage roots: {exc}"


def preview_files(collection: Collection, roots: Iterable[Path]) -> FilesPreview:
    """How many frame files deleting would delete and their total size.

    Sizes come from the index where it has them (captured frames); the others are ``stat``-ed,
    at most :data:`SIZE_SAMPLE` of them, and beyond that their total is estimated from that
    many picked at random (``estimated``).
    """
    index, key, folder = collection.index, collection.key, collection.collection_dir
    files, known, unknown = index.size_totals(key)
    _real, problem = _confined(collection, roots)
    if problem is not None or not unknown:
        return FilesPreview(folder, files, known, problem=problem)
    sample = index.unsized_paths(key, min(unknown, SIZE_SAMPLE))
    sizes = []
    for path in sample:
        try:
            sizes.append(os.lstat(path).st_size)
        except OSError:
            sizes.append(0)  # already gone: deleting it frees nothing
    if len(sample) >= unknown:
        return FilesPreview(folder, files, known + sum(sizes), sampled=len(sample))
    guess = round(sum(sizes) / len(sizes) * unknown) if sizes else 0
    return FilesPreview(folder, files, known + guess, estimated=True, sampled=len(sample))


@dataclass
class DeleteResult:
    """What :func:`delete_frames` did."""

    folder: Path
    deleted: int = 0
    bytes: int = 0
    folders_removed: int = 0
    already_gone: int = 0  # listed by the index, not on disk any more
    left: int = 0  # files left alone (outside the collection's folder, not a file, unreadable)
    notes: list[str] = field(default_factory=list)  # the first few reasons, for the user

    def note(self, message: str, files: int = 1) -> None:
        self.left += files
        if len(self.notes) < _MAX_NOTES:
            self.notes.append(message)

    def summary(self) -> dict[str, object]:
        return {"folder": str(self.folder), "deleted": self.deleted, "bytes": self.bytes,
                "folders_removed": self.folders_removed, "already_gone": self.already_gone,
                "left": self.left, "notes": list(self.notes[:5])}  # fmt: skip


def delete_frames(
    collection: Collection,
    roots: Iterable[Path],
    *,
    progress: ProgressCallback | None = None,
    cancel: threading.Event | None = None,
) -> DeleteResult:
    """Delete the frame files the index lists for ``collection``, then forget its rows.

    Only files inside the collection's folder (symlinks resolved) and a storage root are
    deleted; a symlink is removed, never what it points to. Folders below the collection's
    folder that are left empty are removed; the collection's folder itself and any file the
    index does not list stay. The rows are forgotten even when cancelled or failed halfway:
    the files that are left are re-indexed by declaring a collection over the folder again.
    """
    real_root, problem = _confined(collection, roots)
    if real_root is None:
        raise RemovalRefused(f"collection {collection.name!r}: {problem}")
    index, key = collection.index, collection.key
    result = DeleteResult(collection.collection_dir)
    total = index.count(key)
    report = Throttle(progress, 0.25)
    started = time.monotonic()
    report(Progress("delete", 0, total, message=f"deleting {total:,} files"))
    try:
        for folder, names in index.files_by_folder(key):
            if cancel is not None and cancel.is_set():
                raise Cancelled(
                    f"cancelled after deleting {result.deleted:,} of {total:,} files; the others "
                    f"are still in {collection.collection_dir}"
                )
            _delete_folder(folder, names, real_root, result)
            done = result.deleted + result.already_gone + result.left
            rate = done / max(time.monotonic() - started, 1e-6)
            report(Progress("delete", done, total, rate, (total - done) / rate if rate else None,
                            f"{result.deleted:,} deleted"))  # fmt: skip
    finally:
        index.drop(key)
    return result


def _delete_folder(folder: str, names: list[str], real_root: Path, result: DeleteResult) -> None:
    real = Path(os.path.realpath(folder))
    if not real.is_relative_to(real_root):
        result.note(f"{folder} is outside {real_root}: its {len(names)} files stay", len(names))
        return
    for name in names:
        if not name or "/" in name or name in (".", ".."):
            result.note(f"{folder}: {name!r} is not a file name; left alone")
            continue
        path = real / name
        try:
            st = os.lstat(path)
            if stat.S_ISDIR(st.st_mode):
                result.note(f"{path} is a folder, not a frame; left alone")
                continue
            os.unlink(path)
        except FileNotFoundError:
            result.already_gone += 1
            continue
        except OSError as exc:
            result.note(f"{path}: not deleted ({exc.strerror or exc})")
            continue
        result.deleted += 1
        result.bytes += st.st_size
    while real != real_root and real.is_relative_to(real_root):
        try:
            real.rmdir()  # fails on a folder that still holds anything: it stays
        except OSError:
            break
        result.folders_removed += 1
        real = real.parent
