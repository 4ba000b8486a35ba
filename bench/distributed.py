"""Exports and renders on Celery workers (issue 21 §3) against the same work in process.

    ./bench.sh distributed                   # 160 frames of 1600x1200, 3 rounds
    ./bench.sh distributed --frames 80 --rounds 1
    ./bench.sh distributed --no-render       # the export lines only

Needs Redis on 127.0.0.1:6379 (it uses database 14 and empties it when done). Frames: noisy
JPEGs (real decode work), 40 a local day, made once under ``bench/.work/distributed-<n>/``;
each export fits them into 1280x720 with a time stamp (the frames are decoded, resized,
stamped and encoded: an export's real work), chunks of 20 frames a task.

* **one worker vs in process**: one ``pylapse worker`` process (prefork, concurrency 1) against
  ``run_export`` with one worker process (``workers=1``): what sending the frames through the
  broker, the result backend and a worker costs. Goal: <= 1.15x its time.
* **two workers vs one worker**: two ``pylapse worker`` processes on one queue against the one
  worker above. Goal: <= 0.59x its time (>= 1.7x faster) on this 2-core machine.

* **render: one worker vs in process**: the same frames rendered to 1280x720 H.264 (draft)
  through day segments (4 days of 40 frames), each day encoded by a task and joined by stream
  copy here, against :func:`~pylapse.video.segments.render_segmented` in process (a cold
  segment cache both times). Goal: <= 1.15x its time. **two workers vs one** is shown as
  information: x264 already uses both cores for one day, so a second worker has little to add
  on this machine.

The three runs alternate within each round (in process, one worker, two workers, then the
other way round), so a change in the machine's load biases none; the best of the rounds counts.

Figures (2026-12-07; 2 cores shared with up to 7 other sessions, load average in brackets):
80 frames, 1 round [4.6]: one worker 2.53 s vs in process 3.08 s (0.82x), two workers 2.44 s
vs one 2.53 s (0.96x); 160 frames, 2 rounds [5.5]: one worker 7.41 s vs 6.17 s (1.20x), two
workers 4.62 s vs 7.41 s (0.62x, 1.6x faster). With the machine's two cores already busy with
other sessions' work, a second worker has no idle core to use, so the two-worker line says
little here; on a quiet machine it is the one to watch.
Render lines, 160 frames (4 days), 2 rounds [load 10.2]: one worker 22.65 s vs in process
22.64 s (1.00x); two workers 9.13 s vs one 22.65 s (0.40x: the load moved a lot in between);
80 frames, 1 round: one worker 8.66 s vs 11.56 s (0.75x), two workers 7.15 s vs 8.66 s (0.83x).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

from PIL import Image

from bench._harness import Goal, Report, timed
from pylapse import timeutil
from pylapse.export.distributed import run_export_on_workers
from pylapse.export.options import ExportOptions
from pylapse.export.run import run_export
from pylapse.jobs.celery_app import make_app
from pylapse.video.command import RenderOptions
from pylapse.video.distributed import SegmentFrame, encode_on_workers
from pylapse.video.segments import render_segmented

REPO = Path(__file__).resolve().parents[1]
WORK = REPO / "bench" / ".work"
REDIS = "redis://127.0.0.1:6379/14"
TOKYO = 9 * 3600
PER_DAY = 40


def _frames(count: int) -> list[tuple[Path, datetime]]:
    folder = WORK / f"distributed-{count}"
    start = datetime(2026, 3, 8, 0, 0, tzinfo=UTC)
    paths = [folder / f"f{i:05d}.jpg" for i in range(count)]
    if not (folder / ".complete").exists():
        folder.mkdir(parents=True, exist_ok=True)
        for i, path in enumerate(paths):
            Image.effect_noise((1600, 1200), 40 + i % 20).convert("RGB").save(path, quality=90)
        (folder / ".complete").write_text("complete\n")
    frames = []
    for i, path in enumerate(paths):
        day, slot = divmod(i, PER_DAY)
        utc = (start + timedelta(days=day, minutes=20 * slot)).timestamp()
        frames.append((path, timeutil.from_utc(utc, TOKYO)))
    return frames


class _Worker:
    def __init__(self, config: Path, queue: str, log: Path) -> None:
        command = [sys.executable, "-m", "pylapse", "worker", "--config", str(config),
                   "--queues", queue, "--concurrency", "1", "--loglevel", "WARNING",
                   "--hostname", f"{queue}-{uuid.uuid4().hex[:6]}@bench"]  # fmt: skip
        self.log = log
        with open(log, "wb") as out:
            self.proc = subprocess.Popen(
                command, cwd=REPO, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
            )

    def ready(self, app: object, name_prefix: str) -> None:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            replies = app.control.ping(timeout=0.5) or []  # type: ignore[attr-defined]
            if any(name.startswith(name_prefix) for reply in replies for name in reply):
                return
        raise SystemExit(f"a worker did not start:\n{self.log.read_text()}")

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--frames", type=int, default=160)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--chunk", type=int, default=20, help="frames a task")
    parser.add_argument("--no-render", action="store_true", help="leave the render lines out")
    args = parser.parse_args()
    with socket.socket() as sock:
        if sock.connect_ex(("127.0.0.1", 6379)) != 0:
            print("Redis is not running on 127.0.0.1:6379: redis-server --daemonize yes")
            return 2
    frames = _frames(args.frames)
    options = ExportOptions(width=1280, height=720, drawtimestamp=True, workers=1)
    tmp = Path(tempfile.mkdtemp(prefix="pylapse-bench-distributed-"))
    one, two = f"bench-one-{uuid.uuid4().hex[:6]}", f"bench-two-{uuid.uuid4().hex[:6]}"
    config = tmp / "capture_config.json"
    jobs = {"backend": "celery", "broker_url": REDIS}
    config.write_text(json.dumps({"data_dir": str(tmp / "data"), "jobs": jobs}))
    app = make_app(REDIS, REDIS)
    workers = [
        _Worker(config, one, tmp / "one.log"),
        _Worker(config, two, tmp / "two-a.log"),
        _Worker(config, two, tmp / "two-b.log"),
    ]
    kinds = ("inprocess", "one", "two", "render-inprocess", "render-one", "render-two")
    times: dict[str, list[float]] = {kind: [] for kind in kinds}
    shots = [SegmentFrame(str(path), when.timestamp(), TOKYO, None, None, None, None)
             for path, when in frames]  # fmt: skip
    video = RenderOptions(fps=24, speed="draft", size=(1280, 720))
    try:
        for worker, prefix in zip(workers, (one, two, two), strict=True):
            worker.ready(app, prefix)

        def run(kind: str) -> None:
            out = tmp / f"out-{kind}"
            if kind == "inprocess":
                seconds, _ = timed(lambda: run_export(frames, out, options))
            else:
                queue = one if kind == "one" else two
                seconds, _ = timed(
                    lambda: run_export_on_workers(
                        frames, out, options, app=app, queue=queue, chunk_frames=args.chunk
                    )
                )
            times[kind].append(seconds)
            shutil.rmtree(out)

        def render(kind: str) -> None:
            cache, out = tmp / f"cache-{kind}", tmp / f"{kind}.mp4"
            encode = None
            if kind != "render-inprocess":
                encode = encode_on_workers(app, one if kind == "render-one" else two)
            seconds, _ = timed(lambda: render_segmented(shots, out, video, cache, encode=encode))
            times[kind].append(seconds)
            shutil.rmtree(cache)
            out.unlink()

        order = ["inprocess", "one", "two"]
        if not args.no_render:
            order += ["render-inprocess", "render-one", "render-two"]
        for n in range(args.rounds):
            for kind in order if n % 2 == 0 else order[::-1]:
                (render if kind.startswith("render") else run)(kind)
    finally:
        for worker in workers:
            worker.stop()
        import redis

        redis.Redis.from_url(REDIS).flushdb()
        shutil.rmtree(tmp, ignore_errors=True)
    load = os.getloadavg()[0]
    report = Report(
        f"export of {args.frames} frames 1600x1200 -> 1280x720 stamped; render of the same to "
        f"1280x720 H.264 in days of {PER_DAY} [load {load:.1f}]"
    )
    best = {k: min(v) for k, v in times.items() if v}
    report.add("one worker vs in process", best["one"], best["inprocess"], Goal.ratio(1.15))
    report.add("two workers vs one worker", best["two"], best["one"], Goal.ratio(0.59))
    if not args.no_render:
        report.add("render: one worker vs in process", best["render-one"],
                   best["render-inprocess"], Goal.ratio(1.15))  # fmt: skip
        report.add("render: two workers vs one worker", best["render-two"], best["render-one"],
                   Goal.info())  # fmt: skip
    return report.finish()


if __name__ == "__main__":
    sys.exit(main())
