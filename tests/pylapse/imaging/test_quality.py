"""Quality scores catch generated defects (black, blurred, duplicated, overexposed) and score
a real frame plausibly."""

from __future__ import annotations

import io
import itertools
import random

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

from pylapse.imaging import quality
from tests.conftest import shared_testdata


def _scene(seed: int = 1, size: tuple[int, int] = (640, 480)) -> Image.Image:
    """A textured scene: random rectangles and lines on a mid-grey gradient."""
    rng = random.Random(seed)
    image = Image.linear_gradient("L").resize(size).convert("RGB")
    draw = ImageDraw.Draw(image)
    for _ in range(60):
        x, y = rng.randrange(size[0]), rng.randrange(size[1])
        w, h = rng.randrange(10, 120), rng.randrange(10, 120)
        tone = rng.randrange(30, 220)
        draw.rectangle((x, y, x + w, y + h), fill=(tone, tone, tone))
        draw.line((rng.randrange(size[0]), 0, rng.randrange(size[0]), size[1]), fill="white")
    return image


def _jpeg(image: Image.Image) -> bytes:
    out = io.BytesIO()
    image.save(out, "JPEG", quality=90)
    return out.getvalue()


def test_black_frame_is_dark_flat_and_clipped_low() -> None:
    scores = quality.score(Image.new("RGB", (640, 480)))
    assert scores.luma == 0
    assert scores.contrast == 0
    assert scores.sharpness == 0
    assert scores.clip_low == 1.0
    assert scores.clip_high == 0.0


def test_blur_by_a_known_kernel_lowers_sharpness_and_keeps_the_hash_close() -> None:
    sharp = _scene()
    sharp_scores = quality.score(sharp)
    for radius, most in ((1, 0.5), (3, 0.1)):
        blurred = quality.score(sharp.filter(ImageFilter.GaussianBlur(radius)))
        assert blurred.sharpness < most * sharp_scores.sharpness
        assert abs(blurred.luma - sharp_scores.luma) < 2
        # the same scene, only softer: a perceptual hash barely moves
        assert quality.hash_distance(blurred.dhash, sharp_scores.dhash) <= 6


def test_a_duplicate_has_distance_zero_and_another_scene_does_not() -> None:
    one = quality.score_file(_jpeg(_scene(1)))
    again = quality.score_file(_jpeg(_scene(1)))
    other = quality.score_file(_jpeg(_scene(2)))
    assert quality.hash_distance(one.dhash, again.dhash) == 0
    assert quality.hash_distance(one.dhash, other.dhash) > 10


def test_overexposed_frame_is_clipped_high() -> None:
    normal = _scene()
    over = normal.point(lambda v: min(255, v * 3))
    normal_scores, over_scores = quality.score(normal), quality.score(over)
    assert over_scores.clip_high > 0.5
    assert normal_scores.clip_high < 0.2
    assert over_scores.luma > normal_scores.luma + 60


def test_noise_estimate_tracks_added_noise() -> None:
    rng = np.random.default_rng(7)
    sigma = 8.0
    for side, copy_sigma in ((512, sigma), (768, sigma / 8)):
        flat = np.full((side, side), 128.0)
        noisy = Image.fromarray(
            np.clip(np.rint(flat + rng.normal(0, sigma, flat.shape)), 0, 255).astype(np.uint8)
        )
        # 512 px: the copy takes every 4th pixel (point samples keep a pixel's noise);
        # 768 px: the copy's pixels are means of 8x8 boxes (64 pixels: sigma / 8)
        estimate = quality.score(noisy).noise
        assert copy_sigma * 0.9 < estimate < copy_sigma * 1.1  # unbiased: not under-read
        assert quality.score(Image.fromarray(flat.astype(np.uint8))).noise == 0


def test_draft_decode_and_full_decode_score_alike() -> None:
    data = _jpeg(_scene(3, (1600, 1200)))
    drafted = quality.score_file(data)
    with Image.open(io.BytesIO(data)) as image:
        image.load()
        full = quality.score(image)
    assert abs(drafted.luma - full.luma) < 1.5
    assert abs(drafted.sharpness - full.sharpness) < 0.25 * full.sharpness
    assert quality.hash_distance(drafted.dhash, full.dhash) <= 2


def test_a_small_frame_scores_the_same_from_its_file_and_from_its_decode() -> None:
    # under 768 px the copy is point samples: the backfill job decodes the file in full and
    # picks the pixels capture picks from its decoded frame, so the stored scores are equal
    frames = sorted((shared_testdata("sequence-real") / "frames").glob("*.jpg"))
    data = frames[0].read_bytes()
    with Image.open(io.BytesIO(data)) as image:
        image.load()
        decoded = quality.score(image)
        assert quality.reduced(image, "RGB").size == (128, 96)  # 768x576, one pixel in 6x6
    assert quality.score_file(data) == decoded


def test_hash_distance_masks_signed_values() -> None:
    assert quality.hash_distance(-1, 0) == 64
    assert quality.hash_distance(-1, (1 << 64) - 1) == 0
    assert quality.hash_distance(5, 6) == 2


def test_real_frames_score_plausibly() -> None:
    frames = sorted((shared_testdata("sequence-real") / "frames").glob("*.jpg"))
    first, second = quality.score_file(frames[0]), quality.score_file(frames[1])
    assert 20 < first.luma < 235
    assert first.contrast > 10
    assert first.sharpness > 50
    assert first.clip_high < 0.2 and first.clip_low < 0.2
    # consecutive frames of one scene: near hashes; the frame blurred scores less sharp
    assert quality.hash_distance(first.dhash, second.dhash) < 16
    with Image.open(frames[0]) as image:
        blurred = quality.score(image.convert("RGB").filter(ImageFilter.GaussianBlur(3)))
    assert blurred.sharpness < 0.2 * first.sharpness


def test_the_grain_tells_a_live_still_scene_from_a_picture_served_again() -> None:
    """A still scene seen by a live sensor (fresh noise each frame, bright and at 8 % of the
    light) keeps its dHash and mean luma, so only the grain says it is alive; a picture served
    again with a clock drawn on it flips only the grain's bits under the clock."""
    from pylapse.selection.dead_camera import SAME_GRAIN, SAME_LUMA

    rng = np.random.default_rng(11)
    base = np.asarray(_scene(5, (1280, 720)), dtype=np.float32)
    for light in (1.0, 0.08):
        scores = []
        for _ in range(4):
            noisy = np.clip(np.rint(base * light + rng.normal(0, 1.0, base.shape)), 0, 255)
            scores.append(quality.score_file(_jpeg(Image.fromarray(noisy.astype(np.uint8)))))
        for a, b in itertools.pairwise(scores):
            assert abs(a.luma - b.luma) < SAME_LUMA  # what the luma cannot tell
            assert a.grain is not None and b.grain is not None
            assert quality.hash_distance(a.grain, b.grain) > 3 * SAME_GRAIN, light
    picture = _scene(5, (1280, 720))
    served = []
    for second in range(3):
        stamped = picture.copy()
        ImageDraw.Draw(stamped).text((600, 300), f"12:00:0{second}", fill="white")
        served.append(quality.score_file(_jpeg(stamped)))
    for a, b in itertools.pairwise(served):
        assert a.grain is not None and b.grain is not None
        assert quality.hash_distance(a.grain, b.grain) <= SAME_GRAIN
    again = quality.score_file(_jpeg(picture))
    assert again.grain == quality.score_file(_jpeg(picture)).grain  # the same bytes: the same
