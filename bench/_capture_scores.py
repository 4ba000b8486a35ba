"""The scores part of ``./bench.sh capture`` (``--part scores``): the quality scores and sky
metrics capture computes per frame against the JPEG decode of the same frame, and the backfill
job of ``pylapse metrics`` against the bare decode (what each measures: bench/capture.py)."""

from __future__ import annotations

import io
import math
import statistics
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path


def _scene_jpeg(size: tuple[int, int]) -> bytes:
    """A busy generated frame (noise over a gradient) for sizes the real sequence lacks."""
    from PIL import Image

    image = Image.linear_gradient("L").resize(size).convert("RGB")
    noise = Image.effect_noise(size, 40).convert("RGB")
    buf = io.BytesIO()
    Image.blend(image, noise, 0.4).save(buf, "JPEG", quality=90)
    return buf.getvalue()


def scores_part(rounds: int = 5) -> None:
    """Per-frame scoring at capture against the JPEG decode of the same frame (medians over the
    frames, the best of ``rounds``): the quality scores alone (imaging.quality on the decoded
    image, issue 17's measure), and everything capture computes now: one reduced RGB copy, the
    scores from it and the sky metrics over it (issue 18), with the sky metrics' own share."""
    from PIL import Image

    from pylapse.exif import exposure
    from pylapse.imaging import quality, sky

    real = Path(__file__).resolve().parents[1].parent / "shared/testdata/sequence-real/frames"
    sets: list[tuple[str, list[bytes]]] = []
    frames = sorted(real.glob("*.jpg")) if real.is_dir() else []
    if frames:
        sample = frames[:40]
        with Image.open(sample[0]) as first:
            label = f"real {first.width}x{first.height}"
        sets.append((label, [path.read_bytes() for path in sample]))
    else:
        print(f"scores: {real} is absent; generated frames only")
    for size in ((1920, 1080), (3280, 2464)):
        sets.append((f"generated {size[0]}x{size[1]}", [_scene_jpeg(size)] * 5))

    def capture_work(image: Image.Image) -> None:  # what Camera.save computes
        small = quality.reduced(image, "RGB")
        quality.score(small)
        sky.measure(small, image.height, sky.WHOLE, exposure(image))

    for label, datas in sets:
        times: dict[str, list[float]] = {
            "decode": [], "score": [], "capture": [], "sky": [], "shrink": [], "copy": [],
        }  # fmt: skip
        for data in datas:
            best = dict.fromkeys(times, math.inf)
            for _ in range(rounds):
                # each measure right after a decode of its own, as at capture: timed after
                # another one on the same image it would find the caches warm (~0.05 ms less)
                for key, work in (("score", quality.score), ("capture", capture_work)):
                    started = time.perf_counter()
                    with Image.open(io.BytesIO(data)) as image:
                        image.load()
                        decoded = time.perf_counter()
                        work(image)
                        done = time.perf_counter()
                    best["decode"] = min(best["decode"], decoded - started)
                    best[key] = min(best[key], done - decoded)
                with Image.open(io.BytesIO(data)) as image:  # where the time goes
                    image.load()
                    started = time.perf_counter()
                    small = quality.reduced(image, "RGB")
                    reduced = time.perf_counter()
                    sky.measure(small, image.height, sky.WHOLE, exposure(image))
                    measured = time.perf_counter()
                    copy = quality.grey(image)  # the scores' copy...
                    shrunk = time.perf_counter()
                    quality.score(copy)  # ...and the scores on it
                    on_copy = time.perf_counter()
                for key, seconds in (("sky", measured - reduced), ("shrink", shrunk - measured),
                                     ("copy", on_copy - shrunk)):  # fmt: skip
                    best[key] = min(best[key], seconds)
            for key, seconds in best.items():
                times[key].append(seconds * 1000)
        ms = {key: statistics.median(values) for key, values in times.items()}
        decode = ms["decode"]
        for what, key in (("scores", "score"), ("scores + sky metrics (capture)", "capture"),
                          ("sky metrics alone, on the reduced copy", "sky")):  # fmt: skip
            print(
                f"{what} per frame ({label}, {len(datas)} frames): {ms[key]:.2f} ms, "
                f"JPEG decode {decode:.2f} ms, ratio {100 * ms[key] / decode:.0f} % "
                "(goal <= 25 %)",
                flush=True,
            )
        print(
            f"  where the scores' time goes ({label}): grey copy (sample or reduce, then grey) "
            f"{ms['shrink']:.2f} ms, scores on the copy {ms['copy']:.2f} ms",
            flush=True,
        )


def backfill_part() -> None:
    """``pylapse metrics``' job (draft decode + scores + index writes) against the bare full
    decode of the same frames, in frames per second."""
    from datetime import timedelta

    from PIL import Image

    from pylapse.index.store import FrameIndex
    from pylapse.tasks.metrics import fill_metrics

    real = Path(__file__).resolve().parents[1].parent / "shared/testdata/sequence-real/frames"
    frames = sorted(real.glob("*.jpg")) if real.is_dir() else []
    with tempfile.TemporaryDirectory(prefix="pylapse-bench-metrics-") as tmp:
        folder = Path(tmp)
        sets = [("real", frames)] if frames else []
        big = _scene_jpeg((1920, 1080))
        generated = []
        for k in range(40):
            path = folder / f"g{k:03d}.jpg"
            path.write_bytes(big)
            generated.append(path)
        sets.append(("generated 1920x1080", generated))
        start = datetime(2026, 1, 1, tzinfo=UTC)
        for label, paths in sets:
            started = time.perf_counter()
            for path in paths:
                with Image.open(path) as image:
                    image.load()
            decode = len(paths) / (time.perf_counter() - started)
            with FrameIndex(folder / f"{label[:4]}.db") as index:
                for k, path in enumerate(paths):
                    when = start + timedelta(minutes=k)
                    index.add_frame("bench", path, when, size=None, mtime=None)
                result = fill_metrics(index, "bench")
            job = result.scored / result.seconds
            print(
                f"metrics job ({label}, {len(paths)} frames): {job:.0f} frames/s, bare full "
                f"decode {decode:.0f} frames/s, job/decode {job / decode:.2f}x",
                flush=True,
            )
