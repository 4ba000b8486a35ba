"""The library's picture sizes: reduced-scale JPEG decoding gives the same picture as a full
decode, upright, at the size's width."""

from __future__ import annotations

import math
from io import BytesIO
from pathlib import Path

import pytest
from PIL import Image, ImageChops, ImageOps, ImageStat

from pylapse.imaging import thumbs


def _psnr(a: Image.Image, b: Image.Image) -> float:
    mse = sum(v**2 for v in ImageStat.Stat(ImageChops.difference(a, b)).rms) / 3
    return 99.0 if mse == 0 else 10 * math.log10(255**2 / mse)


@pytest.mark.parametrize("orientation", [1, 6])
@pytest.mark.parametrize("size", ["thumb", "preview"])
def test_a_picture_matches_a_full_decode(tmp_path: Path, orientation: int, size: str) -> None:
    # 4000x3000 with texture (noise over a gradient): draft decoding has something to lose
    noise = Image.effect_noise((4000, 3000), 40).convert("RGB")
    gradient = Image.linear_gradient("L").resize((4000, 3000)).convert("RGB")
    stored = Image.blend(noise, gradient, 0.6)
    exif = Image.Exif()
    exif[0x0112] = orientation
    path = tmp_path / "big.jpg"
    stored.save(path, "JPEG", quality=90, exif=exif)
    width = thumbs.SIZES[size][0]

    with Image.open(BytesIO(thumbs.make_thumbnail(path, width=width))) as made:
        made.load()
    with Image.open(path) as full:  # the reference: every pixel decoded, then the same resize
        reference = ImageOps.exif_transpose(full).convert("RGB")
    reference.thumbnail((width, width * 4), Image.Resampling.LANCZOS)

    upright = (width, width * 3 // 4) if orientation == 1 else (width, width * 4 // 3)
    assert made.size == reference.size == upright
    assert _psnr(made.convert("RGB"), reference) >= 33  # 36-44 dB measured; JPEG q90 itself ~40
