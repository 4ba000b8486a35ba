"""The temp files of a render, and sweeping those a killed render left behind.

A render writes its video to a hidden temp name in the output folder (and a GIF's palette
beside it) and its frame list, deflicker commands and stabilising transforms to the temp
folder. Each is named for the process that owns it and locked while it lives
(:class:`pylapse.orphans.OwnedTemp`), so a render killed outright (``kill -9``) leaves files
that the next render into the folder, or the next start of the dashboard, can tell from a live
render's and remove (:func:`sweep_render_temps`).
"""

from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path

from pylapse import orphans, storage

__all__ = [
    "LIST_SUFFIX",
    "TEMP_LABELS",
    "TONES_SUFFIX",
    "TRANSFORMS_SUFFIX",
    "settle",
    "sweep_render_temps",
    "temp_output",
]

LIST_SUFFIX = ".concat.txt"  # the frame list's temp file (with the owner's tag before it)
TONES_SUFFIX = ".deflicker.txt"  # deflicker's sendcmd file
TRANSFORMS_SUFFIX = ".stabilise.trf"  # vidstabdetect's measured shake, read by the encode
# how each temp file is named in the commands a render result shows
TEMP_LABELS = {LIST_SUFFIX: "<concat list>", TONES_SUFFIX: "<deflicker commands>",
               TRANSFORMS_SUFFIX: "<stabilise transforms>"}  # fmt: skip

# ".clip.mp4.pylapse-4242-k3j2x9ab.tmp" and its GIF palette "….k3j2x9ab.palette.tmp"
_RENDER_TEMP = re.compile(
    r"^\..+\.pylapse-\d+-[a-z0-9_]+(\.palette)?" + re.escape(storage.TEMP_SUFFIX) + "$"
)
_LIST_TEMP = re.compile(
    r"^pylapse-\d+-[a-z0-9_]+("
    + "|".join(re.escape(x) for x in (LIST_SUFFIX, TONES_SUFFIX, TRANSFORMS_SUFFIX))
    + ")$"
)


def temp_output(output: Path) -> orphans.OwnedTemp:
    """The hidden temp file ffmpeg writes, named for this process and locked while it lives;
    temp files a dead render left in the folder are swept first (:mod:`pylapse.orphans`)."""
    try:
        output.parent.mkdir(parents=True, exist_ok=True)
        sweep_render_temps(output.parent)
        return orphans.OwnedTemp(output.parent, f".{output.name}.", storage.TEMP_SUFFIX)
    except OSError as exc:
        raise PermissionError(f"cannot write to {output.parent}: {exc.strerror or exc}") from None


def _is_render_temp(name: str) -> bool:
    return _RENDER_TEMP.match(name) is not None


def sweep_render_temps(folder: str | os.PathLike[str]) -> list[Path]:
    """Remove what renders killed before they could clean up left in ``folder`` (their hidden
    temp video and GIF palette) and in the temp folder (their frame lists, deflicker
    commands and stabilising transforms). Files of a live
    render are never touched; returns what was removed."""
    removed = orphans.sweep(folder, _is_render_temp)
    removed += orphans.sweep(tempfile.gettempdir(), lambda name: bool(_LIST_TEMP.match(name)))
    return removed


def settle(path: Path) -> None:
    """Before the rename: ffmpeg's output on disk, and readable like the frames and exports
    (0644, as storage.atomic_write makes them; mkstemp creates it 0600)."""
    os.chmod(path, 0o644)
    with path.open("rb") as handle:
        os.fsync(handle.fileno())
