"""A real RTSP camera on 127.0.0.1: GStreamer's RTSP server streaming an H.264 test pattern.

Run it with Debian's Python, which has the GObject bindings (not the project's venv)::

    /usr/bin/python3 tests/servers/rtsp_server.py --port 8554 [--path /stream]
        [--user USER --password PASS]

It prints ``READY rtsp://127.0.0.1:PORT/PATH`` on stdout once it listens and serves until killed.
Needs python3-gi, gir1.2-gst-rtsp-server-1.0 and gstreamer1.0-plugins-{base,good,ugly};
:func:`available` (run from any Python) says whether they are there, and why not.
"""

from __future__ import annotations

import argparse
import contextlib
import subprocess
import sys
from pathlib import Path

SYSTEM_PYTHON = "/usr/bin/python3"
SCRIPT = Path(__file__).resolve()

# what an IP camera sends: H.264 over RTP, a keyframe every second, parameter sets in-band
PIPELINE = (
    "( videotestsrc is-live=true pattern=ball ! "
    "video/x-raw,width=320,height=240,framerate=10/1 ! videoconvert ! "
    "x264enc tune=zerolatency speed-preset=ultrafast key-int-max=10 ! "
    "rtph264pay name=pay0 pt=96 config-interval=1 )"
)

_PROBE = """
import gi
gi.require_version("Gst", "1.0")
gi.require_version("GstRtspServer", "1.0")
from gi.repository import Gst, GstRtspServer
Gst.init(None)
missing = [e for e in ("videotestsrc", "x264enc", "rtph264pay", "videoconvert")
           if Gst.ElementFactory.find(e) is None]
print(" ".join(missing))
"""


def available() -> tuple[bool, str]:
    """(True, "") when this machine can run the server, else (False, the reason)."""
    if not Path(SYSTEM_PYTHON).exists():
        return False, f"{SYSTEM_PYTHON} is absent (the GStreamer bindings are Debian packages)"
    try:
        probe = subprocess.run(
            [SYSTEM_PYTHON, "-c", _PROBE], capture_output=True, text=True, timeout=30
        )
    except (OSError, subprocess.SubprocessError) as exc:
        return False, f"cannot run {SYSTEM_PYTHON}: {exc}"
    if probe.returncode != 0:
        last = (probe.stderr.strip().splitlines() or ["?"])[-1]
        return False, (
            "GStreamer's RTSP server is not installed (apt-get install python3-gi "
            f"gir1.2-gst-rtsp-server-1.0 gstreamer1.0-plugins-base/good/ugly): {last}"
        )
    if probe.stdout.strip():
        return False, f"GStreamer elements missing: {probe.stdout.strip()}"
    return True, ""


def main(argv: list[str] | None = None) -> int:
    import gi

    gi.require_version("Gst", "1.0")
    gi.require_version("GstRtspServer", "1.0")
    from gi.repository import GLib, Gst, GstRtspServer

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--path", default="/stream")
    parser.add_argument("--user")
    parser.add_argument("--password")
    args = parser.parse_args(argv)

    Gst.init(None)
    server = GstRtspServer.RTSPServer()
    server.set_address("127.0.0.1")
    server.set_service(str(args.port))
    factory = GstRtspServer.RTSPMediaFactory()
    factory.set_launch(PIPELINE)
    factory.set_shared(True)
    if args.user:
        auth = GstRtspServer.RTSPAuth()
        token = GstRtspServer.RTSPToken()
        token.set_string("media.factory.role", args.user)
        basic = GstRtspServer.RTSPAuth.make_basic(args.user, args.password or "")
        auth.add_basic(basic, token)
        server.set_auth(auth)
        role = Gst.Structure.new_from_string(
            f"{args.user}, media.factory.access=(boolean)true, "
            "media.factory.construct=(boolean)true"
        )
        factory.add_role_from_structure(role)
    server.get_mount_points().add_factory(args.path, factory)
    if server.attach(None) == 0:
        print(f"cannot listen on 127.0.0.1:{args.port}", file=sys.stderr)
        return 1
    print(f"READY rtsp://127.0.0.1:{args.port}{args.path}", flush=True)
    with contextlib.suppress(KeyboardInterrupt):
        GLib.MainLoop().run()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
