"""An exported frame is the picture Pillow's LANCZOS resize makes, however it was decoded.

Exports decode and shrink JPEGs through libvips when it is installed (pylapse.imaging.vips) and
through Pillow otherwise; either way the frame written must have the reference's size and no
visible difference from it.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime
from pathlib import Path

from PIL import Image, ImageChops, ImageOps, ImageStat

from pylapse.export.options import ExportOptions
from pylapse.export.run import run_export
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
