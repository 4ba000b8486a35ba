"""How 0.2's calls reach today's engine: its export defaults and a collection that uses them.

0.2 wrote every export downsized to fit 1920x1080, at JPEG quality 50, named
``"{prefix} {NNNNN}.{ext}"`` with the export folder's name as the prefix when none was given,
and stamped (when asked) plain white text of 36 pixels at the top-left corner. Through
``pylapse.compat`` exports keep those defaults; through ``pylapse`` today's stay.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pylapse import storage
from pylapse.collection import Collection as EngineCollection
from pylapse.collection import CollectionExports
from pylapse.export.options import V02_WRITER_OPTIONS, ExportOptions, from_v02
from pylapse.export.staging import MANIFEST, NameSet

if TYPE_CHECKING:
    from pylapse.config.presets import ExportPreset
    from pylapse.export.run import ExportResult

__all__ = ["WRITER_DEFAULTS", "V02Collection", "V02Exports", "adopt_v02_export", "v02_options"]

#: 0.2's ``ImageIO.write_imageset`` defaults (what ``Export.run`` wrote with)
WRITER_DEFAULTS: dict[str, Any] = {
    "resize": True,
    "quality": 50,
    "optimize": False,
    "resolution": (1920, 1080),
    "keep_aspect": True,
    "drawtimestamp": False,
    "timestampformat": "%Y-%m-%d %I:%M:%S %p",
    "timestampfontsize": 36,
    "timestampcolor": (255, 255, 255),
    "timestamppos": (0, 0),
    "timestampfont": None,
    "zeropadding": 5,
    "ext": "jpg",
}


def v02_options(
    writer_args: dict[str, Any], folder: str | os.PathLike[str], prefix: str | None = None
) -> ExportOptions:
    """Export options for a 0.2 call writing into ``folder``: 0.2's defaults, then
    ``writer_args`` (0.2's names, or today's names such as ``width`` or ``workers``).

    The file prefix is the one given (``writer_args``, else ``prefix``), else the folder's name,
    followed by a space, as 0.2 named files.
    """
    given = {k: v for k, v in writer_args.items() if v is not None}
    legacy = {k: given.pop(k) for k in list(given) if k in V02_WRITER_OPTIONS}
    args = {**WRITER_DEFAULTS, **legacy}
    if args.get("timestamp_display_tz") and "timestampformat" not in legacy:
        args["timestampformat"] += " %Z"  # 0.2 named the zone when it converted
    name = args.pop("prefix", None) or prefix or Path(os.path.abspath(folder)).name
    fields = {**from_v02(args), "prefix": f"{name} ", "backdrop": "none", **given}
    return ExportOptions.from_mapping({}, **fields)


def adopt_v02_export(folder: Path, options: ExportOptions) -> NameSet | None:
    """Record the files a pyLapse 0.2 export left in ``folder`` as the previous export, so a
    new export with the same names replaces them (0.2 cleared the folder before each export).

    Only a folder without a pyLapse manifest, holding exactly the files ``1..N`` an export with
    these ``options`` would name (``"{prefix} 00001.jpg"`` ...), is adopted; anything else in it
    stays the user's, and an export whose names would replace such a file is still refused.
    """
    if not folder.is_dir() or (folder / MANIFEST).exists():
        return None
    pattern = re.compile(rf"{re.escape(options.prefix)}(\d+)\.{re.escape(options.ext)}")
    found: dict[int, str] = {}
    with os.scandir(folder) as entries:
        for entry in entries:
            match = pattern.fullmatch(entry.name)
            if match and entry.is_file(follow_symlinks=False):
                found[int(match.group(1))] = entry.name
    if not found:
        return None
    names = NameSet(options.prefix, options.ext, max(found), options.zeropadding)
    if sorted(found.values()) != sorted(names.names()):
        return None  # a gap or other padding: not what one 0.2 export wrote
    record = {"files": names.to_json(), "adopted": "files written by a pyLapse 0.2 export"}
    storage.atomic_write(folder / MANIFEST, (json.dumps(record, indent=2) + "\n").encode())
    return names


class V02Exports(CollectionExports):
    """``collection.export`` of a 0.2 collection: runs start from 0.2's defaults, and take
    over the files a 0.2 export left in the folder (:func:`adopt_v02_export`)."""

    def options(
        self, name: str, output_dir: Path, preset: ExportPreset, options: dict[str, Any]
    ) -> ExportOptions:
        return v02_options(options, output_dir, preset.prefix)

    def run(
        self, name: str, output_dir: str | os.PathLike[str] | None = None, **options: Any
    ) -> ExportResult:
        target = self.output_dir(name, output_dir)
        writer = {k: v for k, v in options.items() if k in V02_WRITER_OPTIONS or k in _FIELDS}
        adopt_v02_export(target, self.options(name, target, self._preset(name), writer))
        return super().run(name, output_dir, **options)


_FIELDS = set(ExportOptions.__dataclass_fields__)


class V02Collection(EngineCollection):
    """A collection whose exports use 0.2's defaults (an ``ImageSet``'s, or a 0.2 one)."""

    def _make_exports(self) -> CollectionExports:
        return V02Exports(self)
