"""``pylapse import``: a folder of existing frames becomes an indexed collection."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from PIL import Image

from pylapse.cli import main
from pylapse.config.backups import backups
from pylapse.config.file import load_config
from pylapse.db import DB_NAME
from pylapse.index.store import FrameIndex


@pytest.fixture
def project(tmp_path: Path) -> Path:
    phone = tmp_path / "timelapse" / "phone"
    phone.mkdir(parents=True)
    for minute in range(4):
        Image.new("RGB", (16, 12), (minute * 60, 0, 0)).save(
            phone / f"IMG_20240115_12{minute:02d}00.jpg"
        )
    (tmp_path / "capture_config.json").write_text(json.dumps({"storage_roots": ["timelapse"]}))
    return tmp_path


def test_import_adds_the_collection_and_indexes_its_frames(project: Path, capsys) -> None:
    config_path = project / "capture_config.json"
    code = main(
        [
            "import",
            str(project / "timelapse" / "phone"),
            "--config",
            str(config_path),
            "--timezone",
            "Europe/Berlin",
            "--name",
            "Phone roll",
        ]
    )
    assert code == 0
    config = load_config(config_path)
    entry = config.collections["phone-roll"]
    assert entry.name == "Phone roll"
    assert entry.path == "timelapse/phone"  # relative to the config, so the tree can move
    assert entry.timezone == "Europe/Berlin"
    assert len(backups(config_path)) == 1  # the file as it was before the import
    with FrameIndex(config.data_path / DB_NAME) as index:
        frames = index.frames("phone-roll")
    assert [f.time.isoformat() for f in frames] == [
        f"2024-01-15T12:{m:02d}:00+01:00" for m in range(4)
    ]
    assert "+4 new" in capsys.readouterr().out


def test_import_again_only_rescans(project: Path, capsys) -> None:
    args = [
        "import",
        str(project / "timelapse" / "phone"),
        "--config",
        str(project / "capture_config.json"),
    ]
    assert main(args) == 0
    capsys.readouterr()
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "added collection" not in out
    assert "+0 new" in out


def test_import_refuses_a_folder_outside_the_storage_roots(
    project: Path, tmp_path: Path, capsys
) -> None:
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    code = main(["import", str(outside), "--config", str(project / "capture_config.json")])
    assert code == 1
    err = capsys.readouterr().err
    assert "is outside the storage roots" in err
    assert load_config(project / "capture_config.json").collections == {}


def test_import_refuses_a_missing_folder(project: Path, capsys) -> None:
    code = main(
        [
            "import",
            str(project / "timelapse" / "nope"),
            "--config",
            str(project / "capture_config.json"),
        ]
    )
    assert code == 1
    assert "no such folder" in capsys.readouterr().err


# --- where each frame's time came from (issue 14) -------------------------------------------

REAL = Path("/work/shared/testdata/exif-real")


def _exif_jpeg(path: Path, taken: str, offset: str | None = None) -> None:
    import io

    import piexif

    exif_ifd = {piexif.ExifIFD.DateTimeOriginal: taken.encode()}
    if offset is not None:
        exif_ifd[piexif.ExifIFD.OffsetTimeOriginal] = offset.encode()
    buf = io.BytesIO()
    Image.new("RGB", (8, 8)).save(buf, "JPEG", exif=piexif.dump({"Exif": exif_ifd}))
    path.write_bytes(buf.getvalue())


@pytest.fixture
def mixed(tmp_path: Path) -> Path:
    """Real camera files, synthetic ones and a file with no time at all."""
    import shutil

    folder = tmp_path / "timelapse" / "mixed"
    folder.mkdir(parents=True)
    shutil.copy(REAL / "nokia_8.3_5g_offset+0300.jpg", folder / "nokia.jpg")  # 2022-08-14 +03:00
    shutil.copy(REAL / "sony_a58.jpg", folder / "sony.jpg")  # 2023-10-28 21:42:29, no offset
    _exif_jpeg(folder / "phone_a.jpg", "2024:01:15 10:00:00", "+09:00")
    _exif_jpeg(folder / "camera.jpg", "2024:01:15 11:00:00")  # between two +09:00 frames
    _exif_jpeg(folder / "phone_b.jpg", "2024:01:15 12:00:00", "+09:00")
    (folder / "undated.jpg").write_bytes(b"no image, no time")
    (tmp_path / "capture_config.json").write_text(json.dumps({"storage_roots": ["timelapse"]}))
    return tmp_path


def _import(project: Path, *extra: str) -> int:
    return main(
        ["import", str(project / "timelapse" / "mixed"), "--config",
         str(project / "capture_config.json"), "--no-progress", *extra]
    )  # fmt: skip


def test_import_prints_counts_lists_mtime_fallbacks_and_writes_a_report(mixed: Path, capsys):
    report = mixed / "report.json"
    assert _import(mixed, "--timezone", "Europe/Berlin", "--report", str(report)) == 0
    out = capsys.readouterr().out
    assert "status: certain 3, inferred 1, assumed 2" in out
    assert "offset from: exif-offset 3, zone 2, neighbours 1" in out
    assert "time from the file's modification time (1):" in out
    assert "undated.jpg: assumed: no time in the name or the file" in out
    data = json.loads(report.read_text())
    assert data["counts"]["status"] == {"certain": 3, "inferred": 1, "assumed": 2}
    files = {Path(r["path"]).name: r for r in data["files"]}
    assert set(files) == {"nokia.jpg", "sony.jpg", "phone_a.jpg", "camera.jpg", "phone_b.jpg",
                          "undated.jpg"}  # fmt: skip
    assert files["nokia.jpg"] == {
        "path": str(mixed / "timelapse" / "mixed" / "nokia.jpg"),
        "local_time": "2022-08-14T14:12:31",
        "utc_offset": "+03:00",
        "time_source": "exif",
        "offset_source": "exif-offset",
        "status": "certain",
        "reason": files["nokia.jpg"]["reason"],
    }
    assert files["sony.jpg"]["local_time"] == "2023-10-28T21:42:29"
    assert (files["sony.jpg"]["utc_offset"], files["sony.jpg"]["status"]) == ("+02:00", "assumed")
    camera = files["camera.jpg"]
    assert (camera["utc_offset"], camera["offset_source"], camera["status"]) == (
        "+09:00", "neighbours", "inferred",
    )
    assert "phone_a.jpg" in camera["reason"]
    assert files["undated.jpg"]["time_source"] == "mtime"


def test_import_again_changes_nothing_and_a_new_zone_says_what_changed(mixed: Path, capsys):
    config_path = mixed / "capture_config.json"
    assert _import(mixed, "--timezone", "Europe/Berlin") == 0
    saved = len(backups(config_path))
    capsys.readouterr()
    assert _import(mixed, "--timezone", "Europe/Berlin") == 0
    out = capsys.readouterr().out
    assert "+0 new, 0 changed" in out and "zone changed" not in out
    assert len(backups(config_path)) == saved  # the config was not rewritten
    assert _import(mixed, "--timezone", "Asia/Tokyo") == 0
    out = capsys.readouterr().out
    assert "timezone Europe/Berlin -> Asia/Tokyo" in out
    # sony.jpg's wall clock moved to +09:00 and undated.jpg's wall clock followed its instant
    assert "zone changed (Europe/Berlin -> Asia/Tokyo): 2 frame(s) re-read" in out
    assert "re-read: sony.jpg: 2023-10-28T21:42:29+02:00 -> 2023-10-28T21:42:29+09:00" in out
    config = load_config(config_path)
    assert config.collections["mixed"].timezone == "Asia/Tokyo"
    with FrameIndex(config.data_path / DB_NAME) as index:
        frames = {f.name: f for f in index.frames("mixed")}
    assert frames["sony.jpg"].offset == 9 * 3600
    assert frames["nokia.jpg"].offset == 3 * 3600  # proven by its file: untouched


def test_import_timezone_for_a_range_adds_a_zone_span(mixed: Path, capsys):
    assert _import(mixed, "--timezone", "Europe/Berlin") == 0
    capsys.readouterr()
    code = _import(
        mixed, "--timezone", "America/New_York", "--from", "2023-10-01", "--to", "2023-11-01"
    )
    assert code == 0
    out = capsys.readouterr().out
    assert "zone span 2023-10-01 to 2023-11-01: America/New_York" in out
    assert "1 frame(s) re-read" in out
    config = load_config(mixed / "capture_config.json")
    entry = config.collections["mixed"]
    assert entry.timezone == "Europe/Berlin"
    assert entry.zones == [
        {"from": "2023-10-01", "to": "2023-11-01", "timezone": "America/New_York"}
    ]
    with FrameIndex(config.data_path / DB_NAME) as index:
        sony = next(f for f in index.frames("mixed") if f.name == "sony.jpg")
    assert (sony.offset, sony.offset_source) == (-4 * 3600, "zone")
    assert "America/New_York" in (sony.time_reason or "")
    assert _import(mixed, "--from", "2023-10-01") == 1
    assert "give --timezone too" in capsys.readouterr().err


def test_dry_run_shows_each_file_and_writes_nothing(mixed: Path, capsys):
    config_path = mixed / "capture_config.json"
    before = config_path.read_text()
    assert _import(mixed, "--timezone", "Europe/Berlin", "--dry-run") == 0
    out = capsys.readouterr().out
    assert config_path.read_text() == before
    data = load_config(config_path).data_path
    assert not (data / DB_NAME).exists()
    camera = mixed / "timelapse" / "mixed" / "camera.jpg"
    assert (
        f"{camera}: 2024-01-15T11:00:00 +09:00 [exif/neighbours: inferred; between" in out
    )
    assert "dry run: 6 files; nothing written" in out
    assert _import(mixed, "--timezone", "Europe/Berlin") == 0
    capsys.readouterr()
    assert _import(mixed, "--timezone", "Asia/Tokyo", "--dry-run") == 0
    out = capsys.readouterr().out
    sony = mixed / "timelapse" / "mixed" / "sony.jpg"
    assert f"{sony}: 2023-10-28T21:42:29 +09:00 [exif/zone: assumed" in out
    assert "(now 2023-10-28T21:42:29+02:00)" in out
    assert "2 of the 6 indexed would change; nothing written" in out
    assert load_config(config_path).collections["mixed"].timezone == "Europe/Berlin"
