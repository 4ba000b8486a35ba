"""Helpers for the collections, exports and videos tests: real JPEG frames on disk, indexed."""

from __future__ import annotations

import io
import time
from datetime import datetime, timedelta
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

from PIL import Image

from pylapse import naming, timeutil

BERLIN = timeutil.zone("Europe/Berlin")
XSS = '<script>alert("x")</script>'


def jpeg(shade: int, size: tuple[int, int] = (64, 36)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (shade % 256, 80, 160)).save(out, "JPEG", quality=80)
    return out.getvalue()


def write_frames(folder: Path, start: datetime, count: int, step: timedelta) -> list[Path]:
    """``count`` frames named by their time (the default format) in day folders."""
    paths = []
    for i in range(count):
        when = start + i * step
        day = folder / when.strftime("%Y-%m-%d")
        day.mkdir(parents=True, exist_ok=True)
        path = day / naming.format_name(when, naming.DEFAULT_FORMAT, ext="jpg")
        path.write_bytes(jpeg(i * 7))
        paths.append(path)
    return paths


def demo_frames(runtime: Any, count: int = 6, step: timedelta = timedelta(minutes=10),
                start: datetime | None = None) -> list[Path]:  # fmt: skip
    """Frames for the demo camera in its output folder, indexed under its id."""
    start = start or datetime(2026, 3, 10, 9, 0, tzinfo=BERLIN)
    folder = runtime.config.resolve(runtime.config.cameras["demo"].output_dir)
    paths = write_frames(folder, start, count, step)
    runtime.index.scan("demo", folder, BERLIN)
    return paths


def wait_job(runtime: Any, job_id: int, timeout: float = 60) -> Any:
    record = runtime.jobs.wait(job_id, timeout=timeout)
    deadline = time.monotonic() + 5
    while record.active and time.monotonic() < deadline:  # pragma: no cover - wait() returned early
        time.sleep(0.05)
        record = runtime.jobs.get(job_id)
    return record


class HxAttrs(HTMLParser):
    """Every element's attributes, to look at hx- attributes and ids."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.elements: list[tuple[str, dict[str, str | None]]] = []
        self.feed(html)

    def handle_starttag(self, tag, attrs):  # type: ignore[no-untyped-def]
        self.elements.append((tag, dict(attrs)))

    def root(self) -> tuple[str, dict[str, str | None]]:
        return self.elements[0]

    def with_attr(self, name: str) -> list[dict[str, str | None]]:
        return [a for _, a in self.elements if name in a]


def traversal_values(tmp: Path) -> list[str]:
    """Path values that must all be refused: ../, absolute, symlink out, encoded forms."""
    outside = tmp / "outside"
    outside.mkdir(exist_ok=True)
    link = tmp / "timelapse" / "escape"
    if not link.exists():
        link.symlink_to(outside)
    return ["../outside", "../../etc", str(outside), "/etc", "escape", "escape/sub",
            "timelapse/../../outside"]  # fmt: skip


# Path parameters in URLs: dot segments, URL-encoded and double-encoded forms, NUL.
ENCODED_SEGMENTS = [
    "..%2F..%2Fetc%2Fpasswd",
    "..%252F..%252Fetc",
    "%2e%2e%2f%2e%2e",
    "%00",
    "..%5C..%5Cwin",
]
