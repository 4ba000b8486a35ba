"""Deflicker: gains from a luma curve remove flicker and keep the trend; an export applies them."""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from pathlib import Path

import pytest
from PIL import Image, ImageStat

from pylapse.export.options import ExportOptions
from pylapse.export.run import run_export
from pylapse.imaging import deflicker


def _jitter(values: list[float], clean: list[float]) -> float:
    """Mean frame-to-frame change that the clean sequence does not have."""
    steps = [
        abs((values[i] - values[i - 1]) - (clean[i] - clean[i - 1])) for i in range(1, len(values))
    ]
    return sum(steps) / len(steps)


def _day(count: int = 240) -> list[float]:
    """A slow day: dark, brightening, bright, darkening (luma 20-200)."""
    return [110 - 90 * math.cos(2 * math.pi * i / count) for i in range(count)]


def _flicker(clean: list[float], size: float, seed: int = 7) -> list[float]:
    rng = random.Random(seed)
    return [c * math.exp(rng.uniform(-size, size)) for c in clean]


def test_gains_remove_flicker_and_keep_the_trend():
    clean = _day()
    flickered = _flicker(clean, 0.25)
    out = [v * g for v, g in zip(flickered, deflicker.gains(flickered), strict=True)]
    assert _jitter(out, clean) * 10 <= _jitter(flickered, clean)

    # the trend stays: closer to the clean curve than the flickered frames were (the fit over
    # 13 frames cannot know the clean level better than their average does)
    def error(values: list[float]) -> float:
        return sum(abs(v - c) / c for v, c in zip(values, clean, strict=True)) / len(clean)

    assert error(out) < 0.07 and error(out) * 2 < error(flickered)


def test_a_steady_sequence_is_left_alone_and_a_ramp_is_followed():
    assert deflicker.gains([100.0] * 30) == pytest.approx([1.0] * 30)
    ramp = [40.0 + 3 * i for i in range(50)]  # a sunrise: steady brightening, no flicker
    assert deflicker.gains(ramp) == pytest.approx([1.0] * 50, abs=0.025)


def test_the_clamp_is_honoured_and_strength_scales_the_gain():
    lumas = [100.0] * 20
    lumas[10] = 10.0  # a frame ten times too dark would need x10
    gains = deflicker.gains(lumas, clamp=(0.67, 1.5))
    assert gains[10] == pytest.approx(1.5)
    lumas[10] = 400.0
    assert deflicker.gains(lumas)[10] == pytest.approx(0.67)
    lumas[10] = 80.0
    full, half = deflicker.gains(lumas)[10], deflicker.gains(lumas, strength=0.5)[10]
    assert full == pytest.approx(1.25, rel=0.01)
    assert half == pytest.approx(math.sqrt(1.25), rel=0.01)
    assert deflicker.gains(lumas, strength=0.0) == pytest.approx([1.0] * 20)


def test_unknown_lumas_get_a_target_but_no_gain():
    lumas: list[float | None] = [100.0] * 15
    lumas[7] = None
    aims = deflicker.targets(lumas)
    assert aims[7] == pytest.approx(100.0)
    assert deflicker.gains(lumas)[7] == 1.0
    assert deflicker.targets([None, None]) == [None, None]


def test_bad_settings_are_refused():
    with pytest.raises(ValueError, match="window"):
        deflicker.targets([1.0], window=1)
    with pytest.raises(ValueError, match="strength"):
        ExportOptions(deflicker=True, deflicker_strength=2.0)
    with pytest.raises(ValueError, match="deflicker_window"):
        ExportOptions(deflicker=True, deflicker_window=2)


def test_apply_gain_is_a_point_operation_clipped_at_white():
    image = Image.new("RGB", (4, 4), (100, 50, 200))
    assert deflicker.apply_gain(image, 1.5).getpixel((0, 0)) == (150, 75, 255)
    assert deflicker.apply_gain(image, 1.0) is image


@dataclass
class _Frame:
    path: Path
    utc: float
    offset: int
    luma: float | None


def _luma(path: Path) -> float:
    with Image.open(path) as image:
        return float(ImageStat.Stat(image.convert("L")).mean[0])


@pytest.mark.parametrize("stored", [True, False], ids=["stored-luma", "measured-luma"])
def test_an_export_with_deflicker_lowers_the_jitter(tmp_path: Path, stored: bool):
    """Generated frames of a slow brightening with injected flicker, exported with deflicker:
    with the luma stored (as capture stores it) or measured during the export."""
    clean = [60 + 1.5 * i for i in range(40)]
    flickered = _flicker(clean, 0.2, seed=3)
    frames = []
    for i, value in enumerate(flickered):
        path = tmp_path / "in" / f"f{i:03d}.png"  # PNG: no JPEG rounding in the check
        path.parent.mkdir(exist_ok=True)
        level = round(value)
        Image.new("RGB", (64, 48), (level, level, level)).save(path)
        frames.append(_Frame(path, 1_700_000_000.0 + 600 * i, 0, _luma(path) if stored else None))
    options = ExportOptions(ext="png", deflicker=True, workers=1)
    result = run_export(frames, tmp_path / "out", options)
    assert result.written == 40 and result.linked == 0
    out = [_luma(p) for p in sorted((tmp_path / "out").glob("*.png"))]
    before = [_luma(f.path) for f in frames]
    assert _jitter(out, clean) * 5 <= _jitter(before, clean)
    assert abs(sum(out) / len(out) - sum(clean) / len(clean)) < 5  # the trend is kept
