"""0.2-style scripts run as plain files in subprocesses (issue 13 items 2 and 6): no
``if __name__ == "__main__":`` guard needed, real frames made here, real ffmpeg, a real HTTP
camera. When pyLapse 0.2's own checkout is at hand (its bare mirror beside this one), its
``examples/nightly_batch.py`` and ``examples/autocapture.py`` run too, with only their paths
changed."""

from __future__ import annotations

import io
import os
import re
import subprocess
import sys
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from PIL import Image

from tests.servers.camera_server import CameraServer

REPO = Path(__file__).resolve().parents[3]
V02_MIRROR = Path(os.environ.get("PYLAPSE_V02_MIRROR", "/work/.mirror/sonicdm+pyLapse/repo"))

pytestmark = pytest.mark.slow


def make_frames(folder: Path, prefix: str, days: int = 2, every: int = 10) -> int:
    """Small JPEGs named as 0.2's ``Camera.save_image`` named them, flat in ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    buf = io.BytesIO()
    Image.new("RGB", (80, 60), (120, 160, 90)).save(buf, "JPEG")
    start = datetime(2016, 5, 1)
    count = days * 24 * 60 // every
    for k in range(count):
        when = start + timedelta(minutes=every * k)
        (folder / f"{prefix}{when:%Y-%m-%dT%H-%M-%S}.jpg").write_bytes(buf.getvalue())
    return count


def run_script(path: Path, cache: Path, *args: str) -> subprocess.CompletedProcess:
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(path.parent),
        "PYLAPSE_CACHE_DIR": str(cache),
        "PYTHONPATH": str(REPO),
        "TZ": "UTC",
    }
    return subprocess.run(
        [sys.executable, *args, str(path)],
        cwd=path.parent,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


def v02_example(name: str) -> str:
    if not (V02_MIRROR / "HEAD").exists():
        pytest.skip(f"pyLapse 0.2's checkout is not at {V02_MIRROR} (PYLAPSE_V02_MIRROR)")
    done = subprocess.run(
        ["git", "-C", str(V02_MIRROR), "show", f"HEAD:examples/{name}"],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        pytest.skip(f"examples/{name} not in {V02_MIRROR}: {done.stderr.strip()}")
    return done.stdout


def replace_paths(source: str, paths: dict[str, str]) -> str:
    """``source`` with each raw-string literal ``r'<old>'`` / ``r"<old>"`` pointing elsewhere."""
    for old, new in paths.items():
        pattern = re.compile(r"""r(['"])""" + re.escape(old) + r"\1")
        source, found = pattern.subn(lambda m, new=new: repr(new), source)
        assert found, f"{old!r} not in the script"
    return source


def exported(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.glob("*.jpg"))


# --- 0.2's own examples -------------------------------------------------------------------------


def test_v02_nightly_batch_runs_with_only_its_paths_changed(tmp_path):
    source = v02_example("nightly_batch.py")
    outside_frames, closet_frames = tmp_path / "2016" / "Outside 1", tmp_path / "2016" / "Closet"
    assert make_frames(outside_frames, "Outside ") == 288
    make_frames(closet_frames, "Seed Closet ")
    seq = tmp_path / "Image Sequences"
    script = tmp_path / "nightly_batch.py"
    script.write_text(
        replace_paths(
            source,
            {
                r"F:\Timelapse\Image Sequences\Outside 1": str(seq / "Outside 1"),
                r"F:\Timelapse\2016\Outside 1": str(outside_frames),
                r"F:\Timelapse\Image Sequences\Seed Closet": str(seq / "Seed Closet"),
                r"F:\Timelapse\2016\Seedling Closet": str(closet_frames),
            },
        ),
        encoding="utf-8",
    )
    done = run_script(script, tmp_path / "cache")
    assert done.returncode == 0, done.stderr[-3000:]
    assert f"Collection: Outside, Location: {outside_frames}, Images: 288" in done.stdout
    assert "Nightly Batch Completed at" in done.stdout
    for name, prefix in (("Outside 1", "Outside"), ("Seed Closet", "Seed Closet")):
        full = exported(seq / name / "Full")
        assert len(full) == 48  # hour="*", minute="0": 24 a day, no extra next-midnight frame
        assert full[0] == f"{prefix} Full  00001.jpg"  # "{prefix} {NNNNN}.jpg", 0.2's prefix
        assert len(exported(seq / name / "Day")) == 2 * 19 * 2  # 05:00-23:30 every 30 min
        assert len(exported(seq / name / "Night")) == 2 * 7 * 6  # 23 and 0-5, every 10 min
        noon = [f"{prefix} Noon  00001.jpg", f"{prefix} Noon  00002.jpg"]
        assert exported(seq / name / "Noon") == noon
    # exported with 0.2's writer args (drawtimestamp=True, resize=True): small frames stay small
    with Image.open(seq / "Outside 1" / "Noon" / "Outside Noon  00001.jpg") as frame:
        assert frame.size == (80, 60)
    again = run_script(script, tmp_path / "cache")  # the next night: each export replaced
    assert again.returncode == 0, again.stderr[-3000:]
    assert len(exported(seq / "Outside 1" / "Full")) == 48


def test_v02_autocapture_example_captures_with_only_its_paths_changed(tmp_path):
    """Its jobs' functions run as written; its ``main()`` cannot start on any version: 0.2's
    example asks APScheduler for ``hour='21-24,00-05'`` (24 is not an hour) and APScheduler
    refuses it, so the script is run up to its jobs and each job is called once."""
    source = v02_example("autocapture.py")
    outside_dir, closet_dir = tmp_path / "Outside 1", tmp_path / "Seedling Closet"
    with CameraServer() as cam:
        script = tmp_path / "autocapture_v02.py"
        script.write_text(
            replace_paths(
                source,
                {
                    r"F:\Timelapse\2016\Seedling Closet": str(closet_dir),
                    r"F:\Timelapse\2016\Outside 1": str(outside_dir),
                    r"http://192.168.1.106:8080/photoaf.jpg": cam.url("/shot.jpg"),
                    r"http://192.168.1.105:8080/photoaf.jpg": cam.url("/mjpeg"),
                },
            ),
            encoding="utf-8",
        )
        runner = tmp_path / "run_jobs.py"
        runner.write_text(
            "import runpy\n"
            f"jobs = runpy.run_path({str(script)!r})\n"  # not as __main__: main() is not called
            "jobs['grab_outside']()\n"
            "jobs['grab_closet']()\n"
            "print(jobs['outside'], '|', repr(jobs['seed_closet']))\n",
            encoding="utf-8",
        )
        done = run_script(runner, tmp_path / "cache")
        assert done.returncode == 0, done.stderr[-3000:]
        assert cam.hits("/shot.jpg") == 1 and cam.hits("/mjpeg") == 1
    assert "Success Grabbed Galaxy S4 Outside" in done.stdout
    assert "| <Camera: Galaxy S4 Seed Closet>" in done.stdout
    (outside,) = outside_dir.iterdir()  # flat in the folder, as 0.2 saved frames
    assert re.fullmatch(r"Outside \d{4}-\d\d-\d\dT\d\d-\d\d-\d\d\.jpg", outside.name)
    (closet,) = closet_dir.iterdir()
    assert closet.name.startswith("Seed Closet ")
    with Image.open(closet) as frame:
        frame.verify()


# --- 0.2-style scripts without a main guard ------------------------------------------------------

PLAIN_SCRIPT = """\
from datetime import datetime

from pyLapse.img_seq import Camera, Collection, render_sequence_to_video

open({marker!r}, "a").write("ran\\n")  # the top level must run once, not once per worker

porch = Camera("Porch", {url!r}, "Front")
print(porch.save_image({frames!r}, prefix="Porch "))

garden = Collection("Garden", {exports!r}, {frames!r})
print(garden)
garden.add_export("Full", "Full", "Garden Full", "All Day", hour="*", minute="0")
garden.add_export("Noon", "Noon", "Garden Noon", "1 per day @ Noon", hour="12", minute="0")
garden.export_all(drawtimestamp=True, resize=True)
garden.export("Noon", quality=90)
print(render_sequence_to_video({full!r}, {video!r}, fps=24, progress=False))
print("done at", datetime.now())
"""


@pytest.mark.network
def test_a_02_style_script_without_a_main_guard(tmp_path):
    frames, exports, marker = tmp_path / "frames", tmp_path / "exports", tmp_path / "runs.txt"
    make_frames(frames, "Garden ")
    with CameraServer() as cam:
        script = tmp_path / "garden.py"
        script.write_text(
            PLAIN_SCRIPT.format(
                marker=str(marker),
                url=cam.url("/shot.jpg"),
                frames=str(frames),
                exports=str(exports),
                full=str(exports / "Full"),
                video=str(tmp_path / "full.mp4"),
            ),
            encoding="utf-8",
        )
        assert "__main__" not in script.read_text(encoding="utf-8")
        done = run_script(script, tmp_path / "cache")
    assert done.returncode == 0, done.stderr[-3000:]
    assert marker.read_text(encoding="utf-8") == "ran\n"
    lines = done.stdout.splitlines()
    assert lines[0].startswith(f"Saved {frames / 'Porch '}")
    assert lines[1] == f"Collection: Garden, Location: {frames}, Images: 289"  # + the capture
    # the frame captured just now joins "every full hour" when it lies within 0.2's 5 minutes
    # of one (the machine's zone, the collection's default)
    shot = datetime.fromtimestamp(Path(lines[0].removeprefix("Saved ")).stat().st_mtime)
    into_hour = shot.minute * 60 + shot.second
    now_taken = min(into_hour, 3600 - into_hour) <= 300
    assert len(exported(exports / "Full")) == 48 + now_taken
    # and joins "noon every day" when it was taken within 5 minutes of today's noon
    near_noon = abs(shot.hour * 3600 + shot.minute * 60 + shot.second - 12 * 3600) <= 300
    assert exported(exports / "Noon") == [
        f"Garden Noon {n:05d}.jpg" for n in range(1, 3 + near_noon)
    ]
    assert lines[2] == str(tmp_path / "full.mp4") and (tmp_path / "full.mp4").stat().st_size > 0
    assert "DeprecationWarning" in done.stderr and "garden.py:3" in done.stderr
