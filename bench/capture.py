"""Capture benchmark: 50 loopback cameras on a short interval, one of them hanging.

    ./bench.sh capture [--cameras 50] [--interval 2] [--seconds 30]

A camera server runs in its own process (so its threads do not compete with the scheduler for
the GIL, as real cameras would not); every request's arrival time is recorded there. Each camera
has its own path; one path never answers (the hanging camera, read timeout longer than the run).

Two phases against the same server, same cameras, same duration:

* baseline: a stock APScheduler ``BackgroundScheduler`` (its default 10-thread pool, default job
  options) calling ``Camera.capture`` - what a straightforward scheduler would do;
* ours: :class:`pylapse.capture.scheduler.CaptureScheduler` (health store and frame index included).

Measures, for the healthy cameras only:

* missed captures: scheduled slots (interval grid) with no request from that camera;
* fire-to-request delay: request arrival at the camera minus the slot's scheduled time, p50/p99.

A third part (``--part picamera``, also run by default) drives a Raspberry Pi camera through
the stand-in ``rpicam-still`` (tests/fakes: 1 s to open the camera, 0.2 s per still, 3280x2464
stills like a Pi NoIR's) on 1 s and 0.5 s interval schedules, through the same scheduler:

* baseline: one ``rpicam-still`` per still (camera start-up and warm-up every time);
* ours: the camera kept open (one ``rpicam-still -s``, SIGUSR1 per still).

It reports sustained frames/s: frames saved after the first, over the time from the first to
the last (the one-off start-up is not "sustained").

A fourth part (``--part scores``, also run by default) times the quality scores capture computes
for each frame (:mod:`pylapse.imaging.quality`), and the scores with the sky metrics
(:mod:`pylapse.imaging.sky`) as capture computes them, against the JPEG decode of the same
frame, on the real sequence of ../shared/testdata and on generated 1080p and 8 MP frames (goal
<= 25 %), then the backfill job of ``pylapse metrics`` (draft decodes for frames of 768 px and
more, full ones below, scores and sky metrics) against the bare full decode of the same frames.
The decode is Pillow's full decode (``Image.open`` + ``load``): what capture pays anyway, as
``storage.validate_image`` decodes every grabbed frame in full before it is saved (a sequential
JPEG once; the scores start from that decoded frame).

Prints one line per measure: name, ours, baseline, ratio, goal.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import logging
import math
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from _capture_scores import backfill_part, scores_part  # bench/ is on sys.path: run as a script

# --- the camera server (runs in a child process) -------------------------------------------------


def serve(port: int, out: Path) -> None:
    from PIL import Image

    buf = io.BytesIO()
    Image.linear_gradient("L").resize((640, 480)).convert("RGB").save(buf, "JPEG", quality=85)
    jpeg = buf.getvalue()
    arrivals: list[tuple[str, float]] = []
    stopping = threading.Event()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: object) -> None:
            pass

        def do_GET(self) -> None:
            arrivals.append((self.path, time.time()))
            if self.path == "/hang":
                stopping.wait(3600)
                return
            self.send_response(200)
            self.send_header("Content-Type", "image/jpeg")
            self.send_header("Content-Length", str(len(jpeg)))
            self.end_headers()
            self.wfile.write(jpeg)

    class Server(ThreadingHTTPServer):
        request_queue_size = 512  # 50 cameras connect in the same millisecond
        daemon_threads = True

    httpd = Server(("127.0.0.1", port), Handler)

    def stop(*_: object) -> None:
        stopping.set()
        threading.Thread(target=httpd.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    print("ready", flush=True)
    httpd.serve_forever(poll_interval=0.05)
    out.write_text(json.dumps(arrivals))


# --- the two phases -------------------------------------------------------------------------------


def make_config(folder: Path, port: int, cameras: int, interval: int):
    from pylapse.config.file import parse_config

    schedule = {
        "id": "s",
        "type": "interval",
        "interval_amount": interval,
        "interval_unit": "seconds",
    }
    cams = {}
    for i in range(cameras):
        hanging = i == cameras - 1
        cams[f"cam{i:02d}"] = {
            "name": f"Camera {i}",
            "url": f"http://127.0.0.1:{port}/hang" if hanging else f"http://127.0.0.1:{port}/c{i}",
            "output_dir": f"frames/cam{i:02d}",
            "timezone": "UTC",
            "read_timeout": 600,
            "schedules": [schedule],
        }
    raw = {"cameras": cams, "data_dir": "data", "min_free_mb": 0, "max_retries": 0}
    return parse_config(raw, folder / "capture_config.json")


CLIENT_STARTS: list[tuple[str, float]] = []


def instrument_client() -> None:
    """Record when each HTTP grab starts on our side (path, time), next to the server's view."""
    from urllib.parse import urlsplit

    from pylapse.sources import http

    original = http.Source.grab

    def grab(self, when=None):
        CLIENT_STARTS.append((urlsplit(self.url).path, time.time()))
        return original(self, when)

    http.Source.grab = grab


def run_baseline(config, seconds: float) -> tuple[float, float]:
    from apscheduler.schedulers.background import BackgroundScheduler
    from apscheduler.triggers.interval import IntervalTrigger

    from pylapse.capture.camera import Camera

    sched = BackgroundScheduler(timezone="UTC")
    anchor = datetime.fromtimestamp(time.time() // 60 * 60, UTC)  # slots on the same grid
    for cid, cam in config.cameras.items():
        camera = Camera.from_config(cid, cam, config)
        interval = cam.schedules[0].interval_amount
        trigger = IntervalTrigger(seconds=interval, start_date=anchor)
        sched.add_job(_quiet(camera.capture), trigger, id=cid)
    sched.start()
    start = time.time()  # slots before this are not the scheduler's to miss
    time.sleep(seconds)
    sched.shutdown(wait=False)
    return start, time.time()


def _quiet(fn):
    def call() -> None:
        with contextlib.suppress(Exception):  # failures are counted from the server's side
            fn()

    return call


def run_ours(config, seconds: float) -> tuple[float, float, int]:
    from pylapse.capture.health import HealthStore
    from pylapse.capture.scheduler import CaptureScheduler

    try:
        from pylapse.index.store import FrameIndex

        index = FrameIndex(config.data_path / "pylapse.db")
    except ImportError:
        index = None
    health = HealthStore(config.data_path / "pylapse.db")
    sched = CaptureScheduler(config, index=index, health=health)
    sched.start()  # includes setting up the 50 HTTP clients before the first slot
    start = time.time()
    time.sleep(seconds)
    sched.shutdown(wait=1.0)
    end = time.time()
    saved = sum(1 for _ in (config.data_path.parent / "frames").rglob("*.jpg"))
    health.close()
    if index is not None:
        index.close()
    return start, end, saved


# --- analysis ------------------------------------------------------------------------------------


def analyse(arrivals, start: float, end: float, cameras: int, interval: int, quiet=False):
    """(missed slots, delays in ms) for the healthy cameras between start and end."""
    first = math.ceil(start + 0.5)
    first += (-first) % interval
    slots = [t for t in range(first, int(end - 1.5), interval)]
    delays, missed = [], 0
    per_slot: dict[int, list[float]] = {}
    by_path: dict[str, list[float]] = {}
    for path, t in arrivals:
        if start <= t <= end:
            by_path.setdefault(path, []).append(t)
    for i in range(cameras - 1):
        times = sorted(by_path.get(f"/c{i}", []))
        for slot in slots:
            hit = [t for t in times if slot <= t < slot + interval]
            if not hit:
                missed += 1
            else:
                delays.append((hit[0] - slot) * 1000)
                per_slot.setdefault(slot, []).append(delays[-1])
    if os.environ.get("BENCH_VERBOSE") and not quiet:
        for slot in slots:
            got = sorted(per_slot.get(slot, []))
            lo, mid, hi = (got[0], statistics.median(got), got[-1]) if got else (0, 0, 0)
            print(f"  slot {slot}: {len(got)} requests, delay ms {lo:.0f} / {mid:.0f} / {hi:.0f}")
    return missed, delays, len(slots) * (cameras - 1)


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    return (
        statistics.quantiles(values, n=100, method="inclusive")[q - 1] if q < 100 else max(values)
    )


def line(name: str, ours: float, base: float, goal: str, unit: str = "") -> None:
    ratio = ours / base if base else float("nan")
    print(
        f"{name:<36} ours {ours:8.1f}{unit}  baseline {base:8.1f}{unit}  "
        f"ratio {ratio:5.2f}  goal {goal}"
    )


def run_picamera(folder: Path, interval: float, seconds: float, keep_open: bool) -> float:
    """Sustained frames/s of one Pi camera on an ``interval`` schedule for ``seconds``."""
    from pylapse.capture.scheduler import CaptureScheduler
    from pylapse.config.file import parse_config
    from pylapse.sources import picamera

    folder.mkdir(parents=True)
    camera = {
        "name": "Nest box", "type": "picamera", "output_dir": "frames/nest", "timezone": "UTC",
        "capture_width": 3280, "capture_height": 2464, "warmup_ms": 1000,
        "schedules": [{"id": "s", "type": "interval", "interval_amount": interval,
                       "interval_unit": "seconds"}],
    }  # fmt: skip
    raw = {"cameras": {"nest": camera}, "data_dir": "data", "min_free_mb": 0, "max_retries": 0}
    config = parse_config(raw, folder / "capture_config.json")
    saved_limit = picamera.KEEP_OPEN_BELOW
    picamera.KEEP_OPEN_BELOW = saved_limit if keep_open else 0.0  # 0: one process per still
    try:
        sched = CaptureScheduler(config)
        sched.start()
        time.sleep(seconds)
        sched.shutdown(wait=5.0)
    finally:
        picamera.KEEP_OPEN_BELOW = saved_limit
    stamps = sorted(p.stat().st_mtime for p in (folder / "frames").rglob("*.jpg"))
    if len(stamps) < 2 or stamps[-1] <= stamps[0]:
        return 0.0
    return (len(stamps) - 1) / (stamps[-1] - stamps[0])


def picamera_part(seconds: float) -> None:
    from tests.fakes import path_with_fakes

    with tempfile.TemporaryDirectory(prefix="pylapse-bench-pi-") as tmp:
        os.environ["PATH"] = path_with_fakes(Path(tmp) / "fakes")
        os.environ.update({"PYLAPSE_FAKE_STARTUP": "1", "PYLAPSE_FAKE_STILL_MS": "200"})
        print(f"Pi camera (stand-in rpicam-still: 1 s start-up, 0.2 s per still, 3280x2464), "
              f"{seconds:g} s per run", flush=True)  # fmt: skip
        for interval in (1.0, 0.5):
            runs = {}
            for keep_open in (False, True):
                name = f"{interval:g}-{'kept' if keep_open else 'per-still'}"
                runs[keep_open] = run_picamera(Path(tmp) / name, interval, seconds, keep_open)
            line(f"picamera every {interval:g} s: frames/s", runs[True], runs[False],
                 f">= {0.9 / interval:.1f}")  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cameras", type=int, default=50)
    parser.add_argument("--interval", type=int, default=2, help="seconds between slots")
    parser.add_argument("--seconds", type=float, default=30, help="length of each phase")
    parser.add_argument("--part", choices=("all", "http", "picamera", "scores"), default="all")
    parser.add_argument("--pi-seconds", type=float, default=10, help="length of each Pi run")
    parser.add_argument("--serve", nargs=2, metavar=("PORT", "OUT"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.serve:
        serve(int(args.serve[0]), Path(args.serve[1]))
        return 0
    if args.part in ("all", "scores"):
        scores_part()
        backfill_part()
        if args.part == "scores":
            return 0
    if args.part in ("all", "picamera"):
        # a run skipped while the previous still is being taken is what the figure shows
        logging.getLogger("apscheduler").setLevel(logging.CRITICAL)
        logging.getLogger("pylapse").setLevel(logging.ERROR)
        picamera_part(args.pi_seconds)
        if args.part == "picamera":
            return 0

    # per-slot log lines about the hanging camera (ours) and late runs (stock) would bury the result
    logging.getLogger("apscheduler").setLevel(logging.CRITICAL)
    logging.getLogger("pylapse").setLevel(logging.ERROR)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with tempfile.TemporaryDirectory(prefix="pylapse-bench-") as tmp:
        tmp_path = Path(tmp)
        out = tmp_path / "arrivals.json"
        server = subprocess.Popen(
            [sys.executable, __file__, "--serve", str(port), str(out)],
            stdout=subprocess.PIPE,
            text=True,
        )
        assert server.stdout.readline().strip() == "ready"
        print(
            f"{args.cameras} cameras ({args.cameras - 1} healthy, 1 hanging), every "
            f"{args.interval} s, {args.seconds:g} s per phase, {os.cpu_count()} CPUs",
            flush=True,
        )
        instrument_client()
        (tmp_path / "base").mkdir()
        (tmp_path / "ours").mkdir()
        base_cfg = make_config(tmp_path / "base", port, args.cameras, args.interval)
        b_start, b_end = run_baseline(base_cfg, args.seconds)
        time.sleep(args.interval + 0.5)
        ours_cfg = make_config(tmp_path / "ours", port, args.cameras, args.interval)
        o_start, o_end, saved = run_ours(ours_cfg, args.seconds)
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)
        arrivals = json.loads(out.read_text())

    b_missed, b_delays, slots = analyse(arrivals, b_start, b_end, args.cameras, args.interval)
    o_missed, o_delays, _ = analyse(arrivals, o_start, o_end, args.cameras, args.interval)
    print(f"slots per phase for the healthy cameras: {slots}; frames saved by ours: {saved}")
    line("missed captures (healthy cameras)", o_missed, b_missed, "0")
    line("fire-to-request delay p50", pct(o_delays, 50), pct(b_delays, 50), "-", " ms")
    line("fire-to-request delay p99", pct(o_delays, 99), pct(b_delays, 99), "<= 100 ms", " ms")
    line(
        "fire-to-request delay max", max(o_delays, default=0), max(b_delays, default=0), "-", " ms"
    )
    _, bc, _ = analyse(CLIENT_STARTS, b_start, b_end, args.cameras, args.interval, quiet=True)
    _, oc, _ = analyse(CLIENT_STARTS, o_start, o_end, args.cameras, args.interval, quiet=True)
    line("fire-to-grab-call p50 (our side)", pct(oc, 50), pct(bc, 50), "-", " ms")
    line("fire-to-grab-call p99 (our side)", pct(oc, 99), pct(bc, 99), "-", " ms")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
