"""Files on disk: atomic writes (:mod:`.files`), image validation (:mod:`.images`), the frame
folder layout (:mod:`.layout`), path confinement (:mod:`.roots`).

Frames, config and outputs are never written in place: a temp file in the same folder is
written, fsynced and renamed over the target, then the folder is fsynced, so a reader sees the
old file or the new one and a crash leaves at most a ``.tmp`` file that :func:`sweep_temp` removes
(and the next write of the same file, :func:`atomic_write`).
"""

from __future__ import annotations

from pylapse.storage.files import (
    TEMP_SUFFIX,
    IfExists,
    atomic_write,
    free_name,
    fsync_dir,
    iter_files,
    lock_file,
    place_file,
    sweep_temp,
    unlock_file,
)
from pylapse.storage.images import ImageInfo, InvalidImage, validate_image
from pylapse.storage.layout import (
    DEFAULT_DAY_FORMAT,
    DEFAULT_IGNORE,
    FRAME_EXTENSIONS,
    OUTPUT_MARKERS,
    IgnoreRules,
    check_ignore,
    day_folder,
    is_day_folder_name,
)
from pylapse.storage.roots import (
    MAX_NAME_BYTES,
    MAX_PATH_CHARS,
    PathNotAllowed,
    confine,
    open_confined,
    resolved_roots,
    within,
)

__all__ = [
    "DEFAULT_DAY_FORMAT",
    "DEFAULT_IGNORE",
    "FRAME_EXTENSIONS",
    "MAX_NAME_BYTES",
    "MAX_PATH_CHARS",
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
    "free_name",
    "fsync_dir",
    "is_day_folder_name",
    "iter_files",
    "lock_file",
    "open_confined",
    "place_file",
    "resolved_roots",
    "sweep_temp",
    "unlock_file",
    "validate_image",
    "within",
]
