"""``pylapse import``: adopt a folder of existing frames as a collection and index it.

For frames made by other tools (a phone's camera roll, motionEye, an older pyLapse): the folder
must be inside a storage root, so the dashboard can browse it. The collection is added to the
config (saved atomically, previous file kept as ``.bak``) and indexed at once; re-running the
command on the same id only rescans.
"""

from __future__ import annotations

import argparse
import re
from pathlib import Path

from pylapse.cli import CommandError, load_config_or_fail
from pylapse.cli.index import scan_with_bar

__all__ = ["register", "run"]


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    from pylapse.config.models import DEFAULT_CONFIG_NAME

    parser = subparsers.add_parser(
        "import",
        help="add a folder of existing frames as a collection and index it",
        description=__doc__.split("\n\n")[0],
    )
    parser.add_argument("folder", type=Path, help="folder holding the frames (searched deeply)")
    parser.add_argument("--config", type=Path, help=f"config (default ./{DEFAULT_CONFIG_NAME})")
    parser.add_argument("--id", dest="collection_id", help="collection id (default: from --name)")
    parser.add_argument("--name", help="display name (default: the folder's name)")
    parser.add_argument("--timezone", help="IANA zone of names without an offset (default: local)")
    parser.add_argument(
        "--date-source",
        choices=("auto", "filename", "exif", "mtime"),
        default="auto",
        help="where frame times come from (auto = name, then EXIF, then mtime)",
    )
    parser.add_argument(
        "--pattern",
        help="regex for names, with named groups year month day hour minute [second ampm offset]",
    )
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    parser.set_defaults(func=run, verify=False)


def _slug(text: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
    return slug or "collection"


def _config_relative(folder: Path, base: Path) -> str:
    """The folder as the config should hold it: relative to the config file when inside it, so
    the whole tree can move."""
    try:
        return str(folder.relative_to(base.resolve()))
    except ValueError:
        return str(folder)


def run(args: argparse.Namespace) -> int:
    from pylapse.collection import Collection
    from pylapse.config.base import ConfigError
    from pylapse.config.file import save_config
    from pylapse.config.models import CollectionConfig
    from pylapse.db import DB_NAME
    from pylapse.index.scan import ScanError
    from pylapse.index.store import FrameIndex
    from pylapse.storage import PathNotAllowed, confine

    config = load_config_or_fail(args.config)
    folder = args.folder.expanduser()
    if not folder.is_dir():
        raise CommandError(f"{folder}: no such folder")
    try:
        folder = confine(folder.resolve(), config.root_paths)
    except PathNotAllowed as exc:
        raise CommandError(f"{exc}; add a storage root in the config first") from None
    name = args.name or folder.name
    cid = args.collection_id or _slug(name)
    existing = config.collections.get(cid)
    if existing is not None and config.resolve(existing.path).resolve() != folder:
        raise CommandError(
            f"collection {cid!r} already exists for {existing.path}; choose another --id"
        )
    if cid in config.cameras:
        raise CommandError(f"{cid!r} is a camera id; choose another --id")
    if existing is None:
        try:
            entry = CollectionConfig(
                name=name,
                path=_config_relative(folder, config.base_dir),
                timezone=args.timezone,
                date_source=args.date_source,
                filename_pattern=args.pattern,
            )
        except ValueError as exc:  # pydantic's ValidationError is a ValueError
            raise CommandError(f"invalid collection settings: {exc}") from None
        config.collections[cid] = entry
        try:
            save_config(config)
        except ConfigError as exc:
            raise CommandError(str(exc)) from None
        print(f"added collection {cid!r} ({name}) for {folder} to {config.source}")
    with FrameIndex(config.data_path / DB_NAME) as index:
        coll = Collection.from_config(config, cid, index)
        try:
            result = scan_with_bar(index, coll, args)
        except ScanError as exc:
            raise CommandError(str(exc)) from None
    print(result.summary)
    for problem in result.problems[:5]:
        print(f"  {problem}")
    return 0
