"""One scan's folder listings (:class:`FolderListing`): a folder's files by inode and the
subfolders to walk, its symlinks confined to the scan's roots, and which of its files are frames
(see :mod:`pylapse.index.scan`, which walks the folders and decides which to list).

A listing never ``stat``s a file: the directory entries give names, inodes and which entries are
links. A link counts only when its target lies inside the roots (the storage roots and the
scanned folder); one pointing anywhere else is reported (:meth:`ScanResult.note_outside`) and
left out. Hidden entries, other extensions and names the collection's ``ignore`` rules match are
not frames; image files of a type the extensions leave out are counted for the result.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterable
from itertools import repeat

from pylapse import storage
from pylapse.index.scan_result import ScanResult

__all__ = ["FolderListing"]

# Image types a scan counts when the extensions leave them out (cameras' raw formats too)
_IMAGE_TYPES = frozenset((*storage.FRAME_EXTENSIONS, ".tif", ".tiff", ".webp", ".avif", ".cr2",
                          ".cr3", ".nef", ".arw", ".orf", ".rw2", ".raf"))  # fmt: skip


class FolderListing:
    """Lists the folders of one scan under :attr:`root` (set by :meth:`start`)."""

    def __init__(
        self, result: ScanResult, extensions: tuple[str, ...], ignore: storage.IgnoreRules
    ) -> None:
        self.result, self.extensions, self.ignore = result, extensions, ignore
        self.root = ""  # the scanned folder: the prefix of every walked path
        self.inside: tuple[str, ...] = ()  # resolved roots, each ending in a separator

    def start(self, root: str, roots: Iterable[str]) -> None:
        """Begin a walk of ``root`` (absolute); links may point into it or into ``roots``."""
        self.root = root
        real = {os.path.join(os.path.realpath(r), "") for r in [*roots, root]}
        self.inside = tuple(sorted(real))

    def relative(self, path: str) -> str:
        """``path`` from the scanned folder, ``/``-separated (walked paths all start with it)."""
        rel = path[len(self.root) + 1 :]
        return rel.replace(os.sep, "/") if os.sep != "/" else rel

    def list_folder(self, path: str) -> tuple[dict[str, int], list[str]]:
        """Every file (name -> inode) and the visible subfolders of ``path``.

        The loop does only what needs the entry: which files are frames is decided afterwards
        (:meth:`frames`). Entries that are symlinks (known from the listing, no ``stat``) are
        resolved after it (:meth:`_links`).
        """
        files: dict[str, int] = {}
        subdirs: list[str] = []
        links: list[tuple[str, int]] = []
        # Listed through a descriptor, an entry's path is its bare name: no joined path string
        # is built for each of thousands of files (about 5% of listing a day folder).
        fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
        try:
            with os.scandir(fd) as entries:
                for entry in entries:
                    try:
                        if entry.is_file(follow_symlinks=False):
                            files[entry.name] = entry.inode()
                        elif entry.is_dir(follow_symlinks=False):
                            subdirs.append(entry.name)
                        elif entry.is_symlink():
                            links.append((entry.name, entry.inode()))
                    except OSError:  # an entry removed while listing
                        continue
        finally:
            os.close(fd)
        if links:
            self._links(path, links, files, subdirs)
        return files, [os.path.join(path, name) for name in subdirs if name[0] != "."]

    def _links(
        self, path: str, links: list[tuple[str, int]], files: dict[str, int], subdirs: list[str]
    ) -> None:
        """Sort the symlinks of a listed folder: a link whose target is inside the roots counts
        as what it points at (a file, keyed by the link's own inode, or a folder to walk); a
        link pointing outside every root is reported and left out; a dangling one is ignored."""
        for name, inode in links:
            if name[0] == ".":
                continue  # hidden: never a frame or a folder to walk
            link = os.path.join(path, name)
            real = os.path.realpath(link)
            try:
                st = os.stat(real)
            except OSError:
                continue  # dangling, or its target cannot be reached
            is_dir = stat.S_ISDIR(st.st_mode)
            if not stat.S_ISREG(st.st_mode) and not is_dir:
                continue
            if not os.path.join(real, "").startswith(self.inside):
                if is_dir or self.is_frame(name):
                    self.result.note_outside(link)
                continue
            if is_dir:
                subdirs.append(name)
            else:
                files[name] = inode

    def is_frame(self, name: str) -> bool:
        """A frame file: not hidden, with one of the collection's extensions (any case)."""
        return name[0] != "." and (
            name.endswith(self.extensions) or name.lower().endswith(self.extensions)
        )

    def frames(self, path: str, files: dict[str, int]) -> dict[str, int]:
        """``files`` of the folder ``path`` without hidden files, other extensions and ignored
        names, in C-level passes when the folder has one extension throughout and no ignore
        pattern can match a file (the usual case)."""
        if self.ignore.has_file_rules:
            rel = self.relative(path) if path != self.root else ""
            files = {n: i for n, i in files.items() if not self.ignore.file(rel, n)}
        names = list(files)
        ext = os.path.splitext(names[0])[1] if names else ""
        if (
            "/." not in "/" + "/".join(names)
            and ext in self.extensions
            and all(map(str.endswith, names, repeat(ext)))
        ):
            return files
        frames = {name: files[name] for name in names if self.is_frame(name)}
        if len(frames) < len(names):
            self._count_left_out(n for n in names if n not in frames)
        return frames

    def _count_left_out(self, names: Iterable[str]) -> None:
        """Count image files whose type the collection's extensions leave out (a phone's
        .heic among .jpg), so a scan says so instead of dropping them silently."""
        left = self.result.left_out_types
        for name in names:
            ext = os.path.splitext(name)[1].lower()
            if name[0] != "." and ext in _IMAGE_TYPES:
                left[ext] = left.get(ext, 0) + 1
