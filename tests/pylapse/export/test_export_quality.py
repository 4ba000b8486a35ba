"""An exported frame is the picture Pillow's LANCZOS resize makes, however it was decoded.

Exports decode and shrink JPEGs through libvips when it is installed (pylapse.imaging.vips),
frames already the export's size through libjpeg-turbo (pylapse.imaging.samesize), and through
Pillow otherwise; either way the frame written must have the reference's size and no visible
difference from it.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime
from pathlib import Path

from PIL import ExifTags, Image, ImageChops, ImageOps, ImageStat

from pylapse.export.options import ExportOptions
from pylapse.export.run import run_export
from pylapse.imaging import samesize
from tests.conftest import shared_testdata

PSNR_FLOOR = 35.0  # dB; a visible difference (a shifted row, a wrong filter) is far below
WHEN = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)


def _psnr(a: Image.Image, b: Image.Image) -> float:
    squares = ImageStat.Stat(ImageChops.difference(a, b)).sum2
    mse = sum(squares) / (a.width * a.height * 3)
    return float("inf") if mse == 0 else 10 * math.log10(255**2 / mse)


def _reference(path: Path, box: tuple[int, int]) -> Image.Image:
    """Full-size decode, upright, fitted into ``box`` with Pillow's LANCZOS."""
    with Image.open(path) as src:
        full = ImageOps.exif_transpose(src).convert("RGB")
    scale = min(box[0] / full.width, box[1] / full.height, 1.0)
    size = (round(full.width * scale), round(full.height * scale))
    return full.resize(size, Image.Resampling.LANCZOS)


def test_exported_real_photos_match_pillows_lanczos_resize(tmp_path: Path) -> None:
    photos = shared_testdata("exif-real")
    names = [
        "samsung_g965w_subsec6.jpg",  # 4032x3024, foliage and sky
        "canon_sx_hdr_mn_tz+0100.jpg",  # turned by its EXIF orientation
        "nokia_8.3_5g_offset+0300.jpg",  # 4608x1976, wider than the box
    ]
    box = (1920, 1080)
    frames = [(photos / name, WHEN) for name in names]
    result = run_export(frames, tmp_path / "out", ExportOptions(width=box[0], height=box[1]))
    assert result.written == len(names) and result.linked == 0
    written = sorted((tmp_path / "out").glob("*.jpg"))
    for name, path in zip(names, written, strict=True):
        reference = _reference(photos / name, box)
        with Image.open(path) as exported:
            exported.load()
            assert exported.size == reference.size, name
            assert _psnr(exported.convert("RGB"), reference) >= PSNR_FLOOR, name


def _stamped_reference(path: Path, options: ExportOptions) -> Image.Image:
    """Pillow's decode of a frame kept at its size, stamped by ImageDraw as the export does."""
    with Image.open(path) as src:
        picture = ImageOps.exif_transpose(src).convert("RGB")
    stamp = options.timestamp_overlay()
    assert stamp is not None
    stamp.apply(picture, WHEN)
    return picture


def test_1080p_frames_stamped_at_their_size_match_pillow_and_keep_their_exif(
    tmp_path: Path,
) -> None:
    """Frames already the export's size take libjpeg-turbo's way (pylapse.imaging.samesize) when
    it is installed: the same picture and EXIF as Pillow's way (which an optimised export takes)."""
    photos = shared_testdata("exif-real")
    sources = []
    for name in ("nexus4_stale_gps.jpg", "canon_sx_hdr_mn_tz+0100.jpg"):
        with Image.open(photos / name) as photo:
            exif = photo.getexif()  # the camera's, orientation included
            upright = ImageOps.exif_transpose(photo).convert("RGB")
        exif[ExifTags.Base.Orientation] = 1
        path = tmp_path / f"1080p-{name}"
        ImageOps.fit(upright, (1920, 1080), Image.Resampling.LANCZOS).save(
            path, "JPEG", quality=92, exif=exif.tobytes()
        )
        sources.append(path)
    fast = ExportOptions(width=1920, height=1080, drawtimestamp=True)
    pillow = ExportOptions(width=1920, height=1080, drawtimestamp=True, optimize=True)
    if samesize.available():
        assert all(samesize.open_frame(p, fast.resize_spec()) is not None for p in sources)
    frames = [(path, WHEN) for path in sources]
    for options, folder in ((fast, "fast"), (pillow, "pillow")):
        result = run_export(frames, tmp_path / folder, options)
        assert result.written == len(sources) and result.linked == 0
    written = {folder: sorted((tmp_path / folder).glob("*.jpg")) for folder in ("fast", "pillow")}
    for source, ours, theirs in zip(sources, written["fast"], written["pillow"], strict=True):
        reference = _stamped_reference(source, fast)
        with Image.open(ours) as a, Image.open(theirs) as b:
            assert a.size == b.size == reference.size
            assert dict(a.getexif()) == dict(b.getexif())
            assert ExifTags.Base.Orientation not in a.getexif()
            assert a.getexif()[ExifTags.Base.Model]  # the camera's tags went along
            for written in (a, b):
                assert _psnr(written.convert("RGB"), reference) >= PSNR_FLOOR + 5, source.name


def test_a_truncated_frame_at_the_export_size_is_skipped_as_pillows_way_skips_it(
    tmp_path: Path,
) -> None:
    good, cut = tmp_path / "good.jpg", tmp_path / "cut.jpg"
    Image.new("RGB", (1920, 1080), (40, 90, 160)).save(good, quality=92)
    cut.write_bytes(good.read_bytes()[:3000])
    frames = [(good, WHEN), (cut, WHEN)]
    reasons = []
    for optimize in (False, True):  # samesize's way where installed, then Pillow's
        options = ExportOptions(width=1920, height=1080, drawtimestamp=True, optimize=optimize)
        result = run_export(frames, tmp_path / f"out-{optimize}", options)
        assert result.written == 1 and [p for p, _ in result.skipped] == [cut]
        reasons.append(result.skipped[0][1])
    assert reasons[0] == reasons[1] and "truncated" in reasons[0].lower()
