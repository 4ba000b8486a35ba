"""``pylapse import``: adopt a folder of existing frames as a collection and index it.

For frames made by other tools (a phone's camera roll, motionEye, an older pyLapse): the folder
must be inside a storage root, so the dashboard can browse it. The collection is added to the
config (saved atomically, previous file kept as ``.bak``) and indexed at once; re-running the
command on the same id only rescans, or, with a new ``--timezone`` (or a ``--timezone`` for a
``--from``/``--to`` range of wall clocks, a span of the collection's zone timeline), re-reads the
frames whose offset came from the zone and says how many changed.

Afterwards it prints how many frames took their time and offset from which source and how sure
each is, and lists the flagged files and those whose time fell back to the file's modification
time; ``--report PATH.json`` writes one record per file. ``--dry-run`` shows, per file, the time
and offset it would get and why, and writes nothing.
"""

from __future__ import annotations

import argparse
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pylapse.cli import CommandError, load_config_or_fail
from pylapse.cli.index import scan_with_bar

if TYPE_CHECKING:
    from pylapse.config.models import CollectionConfig
    from pylapse.index.frame import Frame
    from pylapse.index.store import FrameIndex

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
    parser.add_argument(
        "--timezone",
        help="IANA zone of frames whose files prove no offset (default: local); on a collection "
        "already imported it replaces the zone (or, with --from/--to, sets it for that range)",
    )
    parser.add_argument(
        "--from", dest="date_from", metavar="WHEN",
        help="with --timezone: the zone holds from this wall clock (2024-02-01 or "
        "2024-02-01T18:00) on",
    )  # fmt: skip
    parser.add_argument(
        "--to", dest="date_to", metavar="WHEN",
        help="with --timezone: ... until this wall clock (exclusive)",
    )  # fmt: skip
    parser.add_argument(
        "--dry-run", action="store_true",
        help="show per file the time and offset it would get and why; write nothing",
    )  # fmt: skip
    parser.add_argument(
        "--report", type=Path, metavar="PATH.json",
        help="write one record per file (path, local_time, utc_offset, sources, status, reason)",
    )  # fmt: skip
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
    from pylapse.config.base import ConfigError
    from pylapse.config.file import save_config
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
    entry = _entry(args, config, folder, name, existing)
    if args.dry_run:
        config.collections[cid] = entry  # in memory only: never saved
        return _dry_run(args, config, cid)
    if existing is None or entry != existing:
        config.collections[cid] = entry
        try:
            save_config(config)
        except ConfigError as exc:
            raise CommandError(str(exc)) from None
        if existing is None:
            print(f"added collection {cid!r} ({name}) for {folder} to {config.source}")
        else:
            print(f"collection {cid!r}: {_what_changed(existing, entry)} in {config.source}")
    return _scan_and_show(args, config, cid)


def _entry(
    args: argparse.Namespace,
    config: Any,
    folder: Path,
    name: str,
    existing: CollectionConfig | None,
) -> CollectionConfig:
    """The collection's settings after this command: new, or ``existing`` with the new zone
    (or zone span)."""
    from pylapse.config.models import CollectionConfig

    span = None
    if args.date_from or args.date_to:
        if not args.timezone:
            raise CommandError("--from/--to say when a --timezone held; give --timezone too")
        span = {"from": args.date_from, "to": args.date_to, "timezone": args.timezone}
    try:
        if existing is None:
            return CollectionConfig(
                name=name,
                path=_config_relative(folder, config.base_dir),
                timezone=None if span else args.timezone,
                date_source=args.date_source,
                filename_pattern=args.pattern,
                zones=[span] if span else [],
            )
        entry = existing.model_copy(deep=True)
        if span is not None:
            same = [z for z in entry.zones if (z.get("from"), z.get("to")) != (
                span["from"], span["to"])]  # fmt: skip
            entry.zones = [*same, span]  # validated: a span overlapping another is refused
        elif args.timezone:
            entry.timezone = args.timezone
        return entry
    except ValueError as exc:  # pydantic's ValidationError is a ValueError
        raise CommandError(f"invalid collection settings: {exc}") from None


def _what_changed(old: CollectionConfig, new: CollectionConfig) -> str:
    if old.timezone != new.timezone:
        return f"timezone {old.timezone or 'local'} -> {new.timezone or 'local'}"
    added = [z for z in new.zones if z not in old.zones]
    return "zone span " + ", ".join(
        f"{z.get('from') or '...'} to {z.get('to') or '...'}: {z['timezone']}" for z in added
    )


def _scan_and_show(args: argparse.Namespace, config: Any, cid: str) -> int:
    from pylapse.collection import Collection
    from pylapse.index.scan import ScanError
    from pylapse.index.store import FrameIndex

    with FrameIndex(config.index_location) as index:
        coll = Collection.from_config(config, cid, index)
        try:
            result = scan_with_bar(index, coll, args)
        except ScanError as exc:
            raise CommandError(str(exc)) from None
        print(result.summary)
        for problem in result.problems[:5]:
            print(f"  {problem}")
        for change in result.reresolved_examples:
            print(f"  re-read: {change}")
        if result.reresolved > len(result.reresolved_examples):
            print(f"  ... and {result.reresolved - len(result.reresolved_examples)} more")
        _show_times(index, coll.key)
        if args.report is not None:
            _write_report(args.report, index, coll.key)
    return 0


_LISTED = 20  # flagged files and mtime fallbacks listed; the report has them all


def _show_times(index: FrameIndex, key: str) -> None:
    """Counts per status and source, then the flagged files and the mtime fallbacks."""
    from pylapse.index.timereport import TimeCounts

    counts = TimeCounts.of(index.time_counts(key))
    for line in counts.lines():
        print(f"  {line}")
    odd = index.flagged(key, mtime=True)
    flagged = [f for f in odd if f.time_status in ("conflict", "implausible")]
    mtime = [f for f in odd if f.time_source == "mtime"]
    for title, frames in (("flagged", flagged), ("time from the file's modification time", mtime)):
        if not frames:
            continue
        print(f"{title} ({len(frames)}):")
        for frame in frames[:_LISTED]:
            print(f"  {frame.path}: {frame.time_status}: {frame.time_reason}")
        if len(frames) > _LISTED:
            print(f"  ... and {len(frames) - _LISTED} more (--report lists them all)")


def _write_report(path: Path, index: FrameIndex, key: str) -> None:
    import json

    from pylapse.index.timereport import TimeCounts, frame_record

    frames = index.frames(key)
    report = {
        "collection": key,
        "counts": TimeCounts.of(index.time_counts(key)).as_json(),
        "files": [frame_record(f) for f in frames],
    }
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(report, indent=1) + "\n", encoding="utf-8")
    tmp.replace(path)
    print(f"report of {len(frames)} files written to {path}")


def _dry_run(args: argparse.Namespace, config: Any, cid: str) -> int:
    """Index the folder into a throw-away index with the settings this command would save, and
    show per file the time and offset it would get and why, beside what the index has now."""
    import tempfile

    from pylapse.collection import Collection
    from pylapse.db import DB_NAME
    from pylapse.index.scan import ScanError
    from pylapse.index.store import FrameIndex
    from pylapse.index.timereport import TimeCounts, utc_offset_text

    now = _current(config.index_location, config.collections[cid].camera or cid)
    with (
        tempfile.TemporaryDirectory(prefix="pylapse-dry-run-") as tmp,
        FrameIndex(Path(tmp) / DB_NAME) as index,
    ):
        coll = Collection.from_config(config, cid, index)
        try:
            scan_with_bar(index, coll, args)
        except ScanError as exc:
            raise CommandError(str(exc)) from None
        frames = index.frames(coll.key)
        changes = 0
        for frame in frames:
            offset = utc_offset_text(frame) or "?"
            was = now.get(str(frame.path))
            note = ""
            if was is not None and (was.utc, was.offset) != (frame.utc, frame.offset):
                changes += 1
                note = f"  (now {was.time.isoformat()})"
            why = f"; {frame.time_reason}" if frame.time_reason else ""
            print(
                f"{frame.path}: {frame.time.replace(tzinfo=None).isoformat()} {offset} "
                f"[{frame.time_source}/{frame.offset_source}: {frame.time_status}{why}]{note}"
            )
        for line in TimeCounts.of(index.time_counts(coll.key)).lines():
            print(f"  {line}")
        if args.report is not None:
            _write_report(args.report, index, coll.key)
    known = f"; {changes} of the {len(now)} indexed would change" if now else ""
    print(f"dry run: {len(frames)} files{known}; nothing written")
    return 0


def _current(location: str | Path, key: str) -> dict[str, Frame]:
    """The frames the index holds for ``key`` now, by path (none when there is no index)."""
    from pylapse.index.store import FrameIndex

    if isinstance(location, Path) and not location.exists():
        return {}
    with FrameIndex(location) as index:
        return {str(f.path): f for f in index.frames(key)}
