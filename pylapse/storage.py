"""Files on disk: atomic writes, image validation, the frame folder layout, path confinement.

Frames, config and outputs are never written in place: a temp file in the same folder is
written, fsynced and renamed over the target, then the folder is fsynced, so a reader sees the
old file or the new one and a crash leaves at most a ``.tmp`` file that :func:`sweep_temp` removes.
"""

from __future__ import annotations

import contextlib
import errno
import fnmatch
import io
import os
import re
import stat
import sys
import tempfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import BinaryIO

from PIL import Image, ImageFile

try:
    import fcntl
except ImportError:  # Windows
    fcntl = None  # type: ignore[assignment]

__all__ = [
    "DEFAULT_IGNORE",
    "FRAME_EXTENSIONS",
    "OUTPUT_MARKERS",
    "TEMP_SUFFIX",
    "IfExists",
    "IgnoreRules",
    "ImageInfo",
    "InvalidImage",
    "PathNotAllowed",
    "atomic_write",
    "check_ignore",
    "confine",
    "day_folder",
    "fsync_dir",
    "is_day_folder_name",
    "lock_file",
    "open_confined",
    "place_file",
    "sweep_temp",
    "unlock_file",
    "validate_image",
    "within",
]

TEMP_SUFFIX = ".tmp"
DEFAULT_DAY_FORMAT = "%Y-%m-%d"


class InvalidImage(ValueError):
    """Bytes that are not one complete image."""


class PathNotAllowed(PermissionError):
    """A path outside every configured storage root."""


def fsync_dir(folder: Path) -> None:
    """Make a rename inside ``folder`` durable."""
    try:
        fd = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:  # not supported on this platform or filesystem
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def lock_file(path: str | os.PathLike[str]) -> int:
    """An exclusive ``flock`` on the file at ``path`` (made when missing): its descriptor.

    ``BlockingIOError`` (an ``OSError``) when another open file holds it. Safe against a holder
    removing the file as it lets go (:func:`unlock_file`): the lock taken is on the file the
    name leads to after locking, or it is tried again.
    """
    if fcntl is None:
        raise OSError(errno.ENOSYS, "this system has no advisory file locks")
    while True:
        # O_CLOEXEC: children (ffmpeg, gphoto2) must not inherit and so keep the lock alive.
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            locked = os.fstat(fd)
            try:
                named = os.stat(path)
            except FileNotFoundError:
                named = None
        except BaseException:
            os.close(fd)
            raise
        if named is not None and (named.st_dev, named.st_ino) == (locked.st_dev, locked.st_ino):
            return fd
        os.close(fd)  # its holder removed it while we waited: lock the file there now


def unlock_file(path: str | os.PathLike[str], fd: int) -> None:
    """Remove the lock file (still holding it, see :func:`lock_file`) and let go of it."""
    with contextlib.suppress(OSError):
        os.unlink(path)
    if fcntl is not None:
        with contextlib.suppress(OSError):
            fcntl.flock(fd, fcntl.LOCK_UN)
    os.close(fd)


def atomic_write(
    path: str | os.PathLike[str],
    data: bytes | Callable[[BinaryIO], None],
    *,
    mode: int = 0o644,
    owner: tuple[int, int] | None = None,
    if_exists: str = "replace",
) -> Path:
    """Write ``data`` (bytes, or a callable that writes to a file) to ``path`` atomically.

    ``mode`` is set exactly (not masked by the umask). ``owner`` (uid, gid) is given to the new
    file before it replaces the old one, so a file another user owns keeps its owner; when this
    process may not give it away (not root) the file is written anyway, owned by us.
    ``if_exists`` is :func:`place_file`'s: ``rename`` keeps an existing file and gives the new
    one the first free name (``x-2.jpg``); the name used is returned.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=TEMP_SUFFIX, dir=path.parent)
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as handle:
            if callable(data):
                data(handle)
            else:
                handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, mode)
        if owner is not None:
            with contextlib.suppress(PermissionError):
                os.chown(tmp, *owner)
        path = place_file(tmp, path, if_exists)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise
    fsync_dir(path.parent)
    return path


def sweep_temp(folder: str | os.PathLike[str]) -> list[Path]:
    """Remove temp files a crash left in ``folder`` (not recursive); returns what was removed."""
    removed = []
    with contextlib.suppress(FileNotFoundError):
        for entry in os.scandir(folder):
            if entry.is_file() and entry.name.startswith(".") and entry.name.endswith(TEMP_SUFFIX):
                with contextlib.suppress(OSError):
                    os.unlink(entry.path)
                    removed.append(Path(entry.path))
    return removed


@dataclass(frozen=True)
class ImageInfo:
    format: str  # "JPEG" or "PNG"
    width: int
    height: int
    image: Image.Image  # fully decoded, so callers can compute metrics without decoding again


_SIGNATURES = {b"\xff\xd8\xff": "JPEG", b"\x89PNG\r\n\x1a\n": "PNG"}
_PNG_END = b"IEND\xaeB`\x82"  # the IEND chunk's type and CRC: the last 8 bytes of every PNG
_EOI = b"\xff\xd9"
# Huffman-coded, sequential frames (baseline, extended): decoded top to bottom
_SEQUENTIAL_SOF = (0xC0, 0xC1)
# Stands in for the end-of-image marker when checking a sequential JPEG: 16 bytes of 1-bits
# (FF 00 is a stuffed FF). They cover the decoder's read-ahead (at most 57 bits) after the last
# MCU; and as all-ones is never a Huffman code, they cannot be decoded into a missing MCU.
_RUN_OUT = b"\xff\x00" * 16
# Decodes as compressed data (no FF: no marker), for the second check below.
_FILLER = bytes((i * 73 + 41) % 255 for i in range(64))


def validate_image(data: bytes) -> ImageInfo:
    """Check that ``data`` is one complete JPEG or PNG and decode it.

    Refuses empty bodies, HTML error pages, other formats and truncated files, with a reason,
    including a JPEG cut inside its image data and then closed with an end-of-image marker
    (see :func:`_decode_jpeg`).
    """
    if not data:
        raise InvalidImage("empty response (0 bytes)")
    kind = next((fmt for sig, fmt in _SIGNATURES.items() if data.startswith(sig)), None)
    if kind is None:
        head = data[:64].lstrip().lower()
        if head.startswith((b"<!doctype", b"<html", b"<?xml", b"{", b"<")):
            raise InvalidImage(f"got a text/HTML page instead of an image ({len(data)} bytes)")
        raise InvalidImage(f"not a JPEG or PNG image (starts with {data[:8]!r})")
    if kind == "JPEG" and not data.rstrip(b"\x00\r\n ").endswith(_EOI):
        raise InvalidImage(f"truncated JPEG: no end-of-image marker ({len(data)} bytes)")
    if kind == "PNG" and not data.endswith(_PNG_END):
        raise InvalidImage(f"truncated PNG: no IEND chunk at the end ({len(data)} bytes)")
    try:
        image = _decode_jpeg(data) if kind == "JPEG" else _decode(data)
    except InvalidImage:
        raise
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as exc:
        raise InvalidImage(f"undecodable {kind}: {exc}") from None
    return ImageInfo(kind, image.width, image.height, image)


def _decode(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


def _decode_jpeg(data: bytes) -> Image.Image:
    """The decoded JPEG, refusing one whose compressed data ends before its last MCU.

    libjpeg meets such an end as a marker inside the scan, warns ("premature end of data
    segment"), fills every missing block with zeros (grey) and finishes as if all were well;
    Pillow discards its warnings. So the check uses what libjpeg does when data simply runs out:
    it suspends, and Pillow reports a truncated file.

    * Sequential (nearly every camera): the end-of-image marker is replaced by :data:`_RUN_OUT`.
      A complete one-scan image is drawn in full before the decoder needs the marker (no extra
      cost: this is the decode whose picture is used); a cut one runs out of data.
    * Progressive (or a sequential file that ran out: cut, or in several scans, when the decoder
      waits for the marker before drawing): the image is decoded as sent and once more with
      :data:`_FILLER` before the marker. After the last scan the filler is skipped as junk and
      the two pictures are equal; inside a cut scan it is decoded as picture data.
    """
    # the end-of-image marker validate_image found (a second image after the first one, as
    # in MPO files, keeps the first one's marker: then only the last image is checked)
    end = len(data.rstrip(b"\x00\r\n ")) - len(_EOI)
    if _frame_marker(data) in _SEQUENTIAL_SOF and not ImageFile.LOAD_TRUNCATED_IMAGES:
        try:
            return _decode(data[:end] + _RUN_OUT)
        except OSError as exc:
            if "truncated" not in str(exc):
                raise
    image = _decode(data)
    if _decode(data[:end] + _FILLER + data[end:]).tobytes() != image.tobytes():
        raise InvalidImage(
            "truncated JPEG: the image data ends early, though the file ends with an "
            f"end-of-image marker; its lower part would be grey ({len(data):,} bytes)"
        )
    return image


def _frame_marker(data: bytes) -> int | None:
    """The JPEG's start-of-frame marker (0xC0 baseline, 0xC2 progressive, ...) from a walk over
    its header segments, or None when they cannot be walked."""
    pos, size = 2, len(data)
    while pos + 4 <= size and data[pos] == 0xFF:
        marker = data[pos + 1]
        if marker == 0xFF:  # fill byte before a marker
            pos += 1
        elif marker == 0x01 or 0xD0 <= marker <= 0xD7:  # markers without a length
            pos += 2
        elif marker == 0xDA:  # the image data starts: no frame header before it
            return None
        elif 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
            return marker
        else:
            pos += 2 + int.from_bytes(data[pos + 2 : pos + 4], "big")
    return None


def day_folder(
    output_dir: str | os.PathLike[str], when: datetime, day_format: str = DEFAULT_DAY_FORMAT
) -> Path:
    """The folder a frame taken at ``when`` (aware, camera zone) goes in."""
    if when.tzinfo is None:
        raise ValueError("day_folder needs an aware datetime")
    sub = when.strftime(day_format) if day_format else ""
    if sub and (sub.startswith(("/", "\\")) or ".." in Path(sub).parts):
        raise ValueError(f"day folder format {day_format!r} must stay inside the output folder")
    return Path(output_dir) / sub if sub else Path(output_dir)


DEFAULT_IGNORE = ("rejected/",)  # what a scan leaves out unless a collection says otherwise
# What a collection indexes unless it says otherwise: phones write HEIC and cameras DNG beside
# JPEG, and leaving them out by default dropped those frames with nothing said.
FRAME_EXTENSIONS = (".jpg", ".jpeg", ".png", ".heic", ".heif", ".dng")
# Files that make a folder pyLapse's own output, never frames: an export's manifest and the
# journal of an export being swapped in (the names pylapse.export.staging writes).
OUTPUT_MARKERS = (".pylapse-export.json", ".pylapse-export.swap.json")


# A folder named like a day (2026-02-09, 2026_02_09, 20260209): where capture puts a day's frames.
_DAY_NAME = re.compile(r"\d{4}([-_.]?)\d{2}\1\d{2}")


def is_day_folder_name(name: str) -> bool:
    """Whether ``name`` looks like a day folder's (``2026-02-09``, ``2026_02_09``, ``20260209``)."""
    return _DAY_NAME.fullmatch(name) is not None


@dataclass(frozen=True, slots=True)
class IgnoreRules:
    """What a scan of a frame folder leaves out, from a collection's ``ignore`` patterns.

    Each pattern is a glob (``*``, ``?``, ``[...]``), matched without regard to case. A pattern
    ending in ``/`` matches folders only (``"rejected/"``), any other matches folders and files;
    a pattern with a ``/`` inside (``"2026-02-09/bad"``) matches the path from the collection's
    folder, any other matches a name at any depth. Hidden entries (a name starting with ``.``)
    are always left out, whatever the patterns say.
    """

    patterns: tuple[str, ...] = ()
    _folder_names: re.Pattern[str] | None = None
    _folder_paths: re.Pattern[str] | None = None
    _file_names: re.Pattern[str] | None = None
    _file_paths: re.Pattern[str] | None = None

    @classmethod
    def of(cls, patterns: Iterable[str]) -> IgnoreRules:
        """Rules from ``patterns`` (refused with ``ValueError`` by :func:`check_ignore`)."""
        clean = tuple(check_ignore(list(patterns)))
        groups: dict[tuple[bool, bool], list[str]] = {}
        for pattern in clean:
            folders_only = pattern.endswith("/")
            body = pattern.rstrip("/")
            by_path = "/" in body
            regex = fnmatch.translate(body.lower())
            groups.setdefault((True, by_path), []).append(regex)
            if not folders_only:
                groups.setdefault((False, by_path), []).append(regex)

        def compiled(folder: bool, by_path: bool) -> re.Pattern[str] | None:
            found = groups.get((folder, by_path))
            return re.compile("|".join(f"(?:{r})" for r in found)) if found else None

        return cls(
            clean, compiled(True, False), compiled(True, True), compiled(False, False),
            compiled(False, True),
        )  # fmt: skip

    @property
    def has_file_rules(self) -> bool:
        """Whether any pattern can match a file (scans then check each file's name)."""
        return self._file_names is not None or self._file_paths is not None

    def folder(self, relative: str) -> bool:
        """Whether the folder at ``relative`` (``/``-separated, from the collection's folder) is
        left out with everything under it."""
        name = relative.rsplit("/", 1)[-1]
        return name.startswith(".") or _hit(self._folder_names, name, self._folder_paths, relative)

    def file(self, folder: str, name: str) -> bool:
        """Whether the file ``name`` in the folder at ``folder`` (relative, ``""`` for the
        collection's own folder) is left out."""
        relative = f"{folder}/{name}" if folder else name
        return name.startswith(".") or _hit(self._file_names, name, self._file_paths, relative)


def _hit(
    names: re.Pattern[str] | None, name: str, paths: re.Pattern[str] | None, relative: str
) -> bool:
    return bool(
        (names is not None and names.match(name.lower()))
        or (paths is not None and paths.match(relative.lower()))
    )


def check_ignore(patterns: list[str]) -> list[str]:
    """``patterns`` stripped, or ``ValueError`` naming a pattern that could never match."""
    out = []
    for raw in patterns:
        pattern = raw.strip().replace("\\", "/")
        if not pattern.rstrip("/"):
            raise ValueError(f"{raw!r} is not a pattern; give a folder name such as 'rejected/'")
        if pattern.startswith("/") or ".." in pattern.split("/") or "\x00" in pattern:
            raise ValueError(
                f"{raw!r} must be relative to the collection's folder, without '..' "
                "(e.g. 'rejected/' or '2026-02-09/bad/')"
            )
        out.append(pattern)
    return out


MAX_PATH_CHARS = 4096  # Linux's PATH_MAX; longer paths cannot be opened anyway
MAX_NAME_BYTES = 255  # the longest file or folder name the usual file systems store


def _shown(raw: str) -> str:
    """``raw`` for a message: a path of thousands of characters is cut."""
    return repr(raw) if len(raw) <= 120 else f"{raw[:100]!r}... ({len(raw)} characters)"


def resolved_roots(roots: Iterable[str | os.PathLike[str]]) -> list[Path]:
    """``roots`` with every symlink resolved, for :func:`within`."""
    found = [Path(os.path.realpath(r)) for r in roots]
    if not found:
        raise PathNotAllowed("no storage roots are configured; add one to 'storage_roots'")
    return found


def within(resolved: str | os.PathLike[str], roots: Iterable[Path]) -> bool:
    """Whether the already resolved ``resolved`` is one of ``roots`` (resolved) or inside one."""
    path = Path(resolved)
    return any(path == root or path.is_relative_to(root) for root in roots)


def confine(path: str | os.PathLike[str], roots: Iterable[str | os.PathLike[str]]) -> Path:
    """Resolve a user-given ``path`` and return it only if it lies inside one of ``roots``.

    Relative paths are taken relative to the first root. Symlinks are resolved first, so a link
    pointing out of a root is refused like ``..`` and absolute paths outside every root. A path
    longer than any the file system can open is refused too (it could only fail later).
    """
    real_roots = resolved_roots(roots)
    raw = os.fspath(path)
    if "\x00" in raw:
        raise PathNotAllowed(f"{_shown(raw)} contains a NUL byte")
    if len(raw) > MAX_PATH_CHARS:
        raise PathNotAllowed(
            f"{_shown(raw)} is too long: at most {MAX_PATH_CHARS} characters are accepted"
        )
    candidate = Path(raw)
    if not candidate.is_absolute():
        candidate = real_roots[0] / candidate
    resolved = candidate.resolve()
    too_long = next((p for p in resolved.parts if len(os.fsencode(p)) > MAX_NAME_BYTES), None)
    if too_long is not None or len(os.fsencode(resolved)) > MAX_PATH_CHARS:
        raise PathNotAllowed(
            f"{_shown(raw)} is too long: a file or folder name has at most {MAX_NAME_BYTES} "
            f"bytes and a path at most {MAX_PATH_CHARS}"
        )
    if within(resolved, real_roots):
        return resolved
    allowed = ", ".join(str(r) for r in real_roots)
    raise PathNotAllowed(f"{_shown(raw)} is outside the storage roots ({allowed})")


_OPEN_FLAGS = (
    os.O_RDONLY
    | getattr(os, "O_NOFOLLOW", 0)  # the last part cannot have become a link since resolving
    | getattr(os, "O_NONBLOCK", 0)  # a FIFO planted under a frame's name must not hang a worker
    | getattr(os, "O_CLOEXEC", 0)
    | getattr(os, "O_BINARY", 0)
)


def _opened_path(fd: int) -> str | None:
    """The path the kernel has for the open file ``fd`` (Linux, macOS), else None."""
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError):
            return os.readlink(f"/proc/self/fd/{fd}")
    getpath = getattr(fcntl, "F_GETPATH", None)  # macOS
    if getpath is not None:
        with contextlib.suppress(OSError):
            raw = fcntl.fcntl(fd, getpath, b"\0" * 1024)
            return os.fsdecode(raw.split(b"\0", 1)[0])
    return None


def open_confined(
    path: str | os.PathLike[str], roots: Iterable[str | os.PathLike[str]]
) -> tuple[BinaryIO, Path]:
    """Open the regular file ``path`` for reading only if it lies inside one of ``roots`` now.

    For serving files: the check is made when the file is opened, not when it was indexed or
    listed, so a frame replaced by a link out of the roots afterwards is refused. ``path`` is
    resolved and checked, the resolved path is opened without following a link in its last
    part, and where the system can say which file a descriptor has open (Linux, macOS) that
    path is checked again, so a folder swapped for a link between the check and the open is
    caught too; elsewhere the opened file must be the file the check resolved.

    Returns the open file and its resolved path. Raises :class:`PathNotAllowed` (outside, or
    changed while opening), ``FileNotFoundError``, ``IsADirectoryError`` (not a regular file)
    or another ``OSError``.
    """
    real_roots = resolved_roots(roots)
    raw = os.fspath(path)
    if "\x00" in raw or len(raw) > MAX_PATH_CHARS:
        raise PathNotAllowed(f"{_shown(raw)} is not a usable path")
    real = Path(os.path.realpath(raw))
    if not within(real, real_roots):
        raise PathNotAllowed(f"{_shown(raw)} is outside the storage roots")
    try:
        fd = os.open(real, _OPEN_FLAGS)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise PathNotAllowed(f"{_shown(raw)} became a link while it was opened") from None
        raise
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise IsADirectoryError(f"{_shown(raw)} is not a regular file")
        opened = _opened_path(fd)
        if opened is not None:
            if not within(opened, real_roots):
                raise PathNotAllowed(f"{_shown(raw)} moved out of the storage roots")
        else:
            again = os.stat(real)
            if (again.st_dev, again.st_ino) != (st.st_dev, st.st_ino):
                raise PathNotAllowed(f"{_shown(raw)} changed while it was opened")
        if hasattr(os, "set_blocking"):
            os.set_blocking(fd, True)
        handle = os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise
    return handle, real


def iter_files(folder: str | os.PathLike[str], suffixes: tuple[str, ...]) -> Iterator[Path]:
    """Files directly in ``folder`` whose lower-cased name ends with one of ``suffixes``."""
    with contextlib.suppress(FileNotFoundError):
        for entry in os.scandir(folder):
            if entry.is_file() and entry.name.lower().endswith(suffixes):
                yield Path(entry.path)


class IfExists(StrEnum):
    """What :func:`place_file` does when the target name is taken."""

    REPLACE = "replace"  # the new file takes the name (the old one is gone)
    RENAME = "rename"  # the new file takes the first free name: day.mp4 -> day-2.mp4
    ERROR = "error"  # FileExistsError; nothing is moved


_MAX_NAMES = 10_000


def free_name(target: Path, n: int) -> Path:
    """The ``n``-th name tried for ``target``: itself, then ``stem-2.ext``, ``stem-3.ext``..."""
    return target if n < 2 else target.with_name(f"{target.stem}-{n}{target.suffix}")


def place_file(temp: str | os.PathLike[str], target: str | os.PathLike[str],
               if_exists: str = IfExists.REPLACE, taken: Callable[[Path], bool] | None = None,
               ) -> Path:  # fmt: skip
    """Give the finished file ``temp`` its name ``target`` (same folder); returns the name used.

    Without ``replace`` the name is claimed atomically with a hard link, which fails when the
    name exists, so two renders finishing together never take the same name and neither
    replaces the other. Where hard links are not supported (FAT, some shares), an empty file
    made with O_EXCL claims the name and the rename follows at once. ``taken(name)`` marks
    names as used beyond existing files (e.g. a manifest left without its video).
    """
    temp, target = Path(temp), Path(target)
    policy = IfExists(if_exists)
    if policy is IfExists.REPLACE:
        os.replace(temp, target)
        return target
    for n in range(1, _MAX_NAMES + 1):
        if n == 2 and policy is IfExists.ERROR:
            break
        candidate = free_name(target, n)
        if taken is not None and taken(candidate):
            continue
        if _claim(temp, candidate):
            return candidate
    if policy is IfExists.ERROR:
        raise FileExistsError(f"{target} exists; nothing was replaced")
    raise FileExistsError(f"no free name for {target.name} in {target.parent}")


def _claim(temp: Path, candidate: Path) -> bool:
    """Move ``temp`` to ``candidate`` unless that name exists (then False)."""
    try:
        os.link(temp, candidate)
    except FileExistsError:
        return False
    except OSError:  # no hard links here: claim the name with an exclusive create
        try:
            os.close(os.open(candidate, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
        except FileExistsError:
            return False
        os.replace(temp, candidate)
        return True
    os.unlink(temp)
    return True
