"""A real HTTP "IP camera" on 127.0.0.1, in a thread, with one endpoint per way cameras fail.

Usage::

    from tests.servers.camera_server import CameraServer

    with CameraServer() as cam:                      # or cam = CameraServer().start(); cam.stop()
        url = cam.url("/shot.jpg")                   # http://127.0.0.1:<port>/shot.jpg
        ...                                          # point a camera config at it
        assert cam.hits("/shot.jpg") == 1            # requests seen per path (query ignored)
        cam.route("/cam7", "error500")               # any path can be given any behaviour,
        cam.route("/cam7", "jpeg")                   # and changed while running (fail, recover)

Default routes (``BEHAVIOURS`` documents each behaviour; ``DEFAULT_ROUTES`` maps paths to them):

=====================  ======================================================================
``/shot.jpg``          a valid JPEG, different on every request (a counter is drawn in it)
``/static.jpg``        the same JPEG bytes on every request (a frozen camera)
``/blank.jpg``         a uniform grey JPEG (a covered lens)
``/dark.jpg``          ``/shot.jpg`` at a tenth of its brightness (a dead infrared light): mean
                       luma ~13, still a picture (not blank), different on every request
``/shot.png``          a valid PNG
``/error500``          HTTP 500 with a short text body
``/hang``              reads the request, then sends nothing until the server stops
``/drip``              200 + a real JPEG, 16 bytes every ``drip_interval`` s (Content-Length set)
``/slow``              a valid JPEG after ``slow_seconds``
``/html``              200 text/html login page (what many cameras answer on a wrong path)
``/truncated.jpg``     the first half of a JPEG, with a Content-Length matching that half
``/half.jpg``          a JPEG cut in the middle of its image data, then ended with an end-of-image
                       marker (FF D9): complete-looking bytes whose lower half decodes grey
``/padded.jpg``        a valid JPEG followed by zero bytes after its end marker (cameras do this)
``/progressive.jpg``   a valid progressive JPEG
``/query/shot.jpg``    401 unless the query string carries every pair of ``required_query``
``/huge``              100 MB image/jpeg body, streamed, with Content-Length
``/huge-chunked``      100 MB body, streamed chunked (no Content-Length to reject up front)
``/empty``             200 image/jpeg with an empty body
``/basic/shot.jpg``    401 unless HTTP basic credentials ``username``/``password`` are sent
``/digest/shot.jpg``   401 unless HTTP digest (MD5, qop=auth) credentials are sent
``/redirect``          302 to ``/shot.jpg``
``/redirect-loop``     302 to itself, forever
``/headers``           200 application/json echo of the request headers
``/mjpeg``             multipart/x-mixed-replace stream, ``boundary=frame``, Content-Length part
                       headers, ``mjpeg_fps`` frames per second until the client leaves
``/mjpeg-nolength``    same, but the Content-Type says ``boundary=--myboundary`` (with dashes, as
                       some cameras do) and parts carry no Content-Length
``/mjpeg-bare``        the ``/mjpeg`` stream sent with no Content-Type at all (the body starts with
                       its boundary line, as some cameras send it)
``/bare.jpg``          a valid JPEG sent with no Content-Type header
``/mjpeg-stall``       sends the multipart header and one part header, then never a whole frame
``/mjpeg-endless``     one part whose body never ends (bytes without a JPEG end marker)
=====================  ======================================================================

``CameraServer(certfile=..., keyfile=...)`` serves HTTPS instead (``url()`` then says https).

Run it by hand (e.g. for a benchmark or the dashboard): ``python -m tests.servers.camera_server
--port 8099`` from the repository root.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import io
import json
import secrets
import ssl
import threading
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from urllib.parse import parse_qsl, urlsplit

from PIL import Image, ImageDraw

__all__ = ["BEHAVIOURS", "DEFAULT_ROUTES", "CameraServer", "cut_jpeg", "make_jpeg"]

HUGE_BYTES = 100 * 1024 * 1024
_CHUNK = 64 * 1024

BEHAVIOURS = {
    "jpeg": "a valid JPEG, different on every request",
    "static": "the same JPEG bytes on every request",
    "still": "a live camera on a still scene: one picture with fresh sensor noise per request",
    "frozen-clock": "a frozen camera stamping its clock: one picture, a new time drawn on it",
    "blank": "a uniform grey JPEG",
    "dark": "a valid JPEG at a tenth of the brightness, different on every request",
    "png": "a valid PNG",
    "error500": "HTTP 500",
    "hang": "no response until the server stops",
    "drip": "a JPEG trickled 16 bytes at a time",
    "slow": "a JPEG after slow_seconds",
    "html": "a 200 text/html page",
    "truncated": "half a JPEG (Content-Length matches the half)",
    "half": "a JPEG cut inside its image data and closed with an end-of-image marker",
    "padded": "a valid JPEG with zero bytes after its end marker",
    "progressive": "a valid progressive JPEG",
    "query": "JPEG only when the query string has every pair of required_query, else 401",
    "huge": "100 MB body with Content-Length",
    "huge-chunked": "100 MB body, chunked",
    "empty": "200 with an empty body",
    "basic": "JPEG behind HTTP basic auth",
    "digest": "JPEG behind HTTP digest auth",
    "redirect": "302 to /shot.jpg",
    "redirect-loop": "302 to itself",
    "headers": "JSON echo of the request headers",
    "mjpeg": "multipart/x-mixed-replace stream with Content-Length part headers",
    "mjpeg-nolength": "multipart stream, boundary declared with dashes, no part lengths",
    "mjpeg-bare": "multipart stream with no Content-Type header",
    "jpeg-bare": "a valid JPEG with no Content-Type header",
    "mjpeg-stall": "multipart header then no complete frame",
    "mjpeg-endless": "one multipart part that never ends",
    "notfound": "HTTP 404",
}

DEFAULT_ROUTES = {
    "/shot.jpg": "jpeg",
    "/static.jpg": "static",
    "/blank.jpg": "blank",
    "/dark.jpg": "dark",
    "/shot.png": "png",
    "/error500": "error500",
    "/hang": "hang",
    "/drip": "drip",
    "/slow": "slow",
    "/html": "html",
    "/truncated.jpg": "truncated",
    "/half.jpg": "half",
    "/padded.jpg": "padded",
    "/progressive.jpg": "progressive",
    "/query/shot.jpg": "query",
    "/huge": "huge",
    "/huge-chunked": "huge-chunked",
    "/empty": "empty",
    "/basic/shot.jpg": "basic",
    "/digest/shot.jpg": "digest",
    "/redirect": "redirect",
    "/redirect-loop": "redirect-loop",
    "/headers": "headers",
    "/mjpeg": "mjpeg",
    "/mjpeg-nolength": "mjpeg-nolength",
    "/mjpeg-bare": "mjpeg-bare",
    "/bare.jpg": "jpeg-bare",
    "/mjpeg-stall": "mjpeg-stall",
    "/mjpeg-endless": "mjpeg-endless",
}


def make_jpeg(
    size: tuple[int, int] = (320, 240),
    *,
    number: int | None = None,
    color: tuple[int, int, int] | None = None,
    fmt: str = "JPEG",
    progressive: bool = False,
    brightness: float = 1.0,
) -> bytes:
    """A small real image: a gradient with ``number`` drawn in it, or a flat ``color``; its
    levels times ``brightness``."""
    width, height = size
    if color is not None:
        img = Image.new("RGB", size, color)
    else:
        shift = (number or 0) * 37 % 256
        img = Image.linear_gradient("L").resize(size).convert("RGB")
        draw = ImageDraw.Draw(img)
        draw.rectangle((0, 0, width // 3, height // 3), fill=(shift, 255 - shift, 128))
        if number is not None:
            draw.text((8, height // 2), f"frame {number}", fill=(255, 255, 0))
    if brightness != 1.0:
        img = img.point(lambda v: round(v * brightness))
    out = io.BytesIO()
    if fmt == "JPEG":
        img.save(out, fmt, quality=85, progressive=progressive)
    else:
        img.save(out, fmt)
    return out.getvalue()


def cut_jpeg(data: bytes, fraction: float = 0.5) -> bytes:
    """``data`` (a one-scan JPEG) cut at ``fraction`` of its compressed image data and closed
    with an end-of-image marker: what a camera sends when its encoder or buffer gives up early.
    Every header is intact and the bytes end in FF D9; decoders fill the missing rows grey."""
    start = data.index(b"\xff\xda")  # the scan header: the image data follows it
    start += 2 + int.from_bytes(data[start + 2 : start + 4], "big")
    end = data.rindex(b"\xff\xd9")
    cut = start + int((end - start) * fraction)
    if data[cut - 1] == 0xFF:  # never leave half of a stuffed FF 00 pair
        cut -= 1
    return data[:cut] + b"\xff\xd9"


class CameraServer:
    """An HTTP camera on 127.0.0.1 (see the module docstring for the endpoints)."""

    def __init__(
        self,
        port: int = 0,
        *,
        username: str = "user",
        password: str = "s3cret-pass",
        frame_size: tuple[int, int] = (320, 240),
        drip_interval: float = 0.05,
        slow_seconds: float = 0.3,
        mjpeg_fps: float = 10.0,
        certfile: str | None = None,
        keyfile: str | None = None,
    ) -> None:
        self.username = username
        self.password = password
        self.frame_size = frame_size
        self.drip_interval = drip_interval
        self.slow_seconds = slow_seconds
        self.mjpeg_fps = mjpeg_fps
        self.routes: dict[str, str] = dict(DEFAULT_ROUTES)
        self.stopping = threading.Event()
        self.static_jpeg = make_jpeg(frame_size, number=0)
        self.blank_jpeg = make_jpeg(frame_size, color=(128, 128, 128))
        self.realm = "pylapse-test"
        # what /query/shot.jpg wants in its query string (e.g. {"pwd": ..., "loginpas": ...})
        self.required_query: dict[str, str] = {}
        self.opaque = secrets.token_hex(8)
        self._lock = threading.Lock()
        self._counts: Counter[str] = Counter()
        self._headers: dict[str, dict[str, str]] = {}
        self._serial = 0
        self._httpd = _Server(("127.0.0.1", port), _Handler)
        self._httpd.camera = self  # type: ignore[attr-defined]
        self.scheme = "http"
        if certfile:  # HTTPS with the given certificate (e.g. a self-signed one from openssl)
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(certfile, keyfile)
            self._httpd.socket = context.wrap_socket(self._httpd.socket, server_side=True)
            self.scheme = "https"
        self._thread: threading.Thread | None = None

    # --- lifecycle ----------------------------------------------------------------------------
    @property
    def port(self) -> int:
        return self._httpd.server_address[1]

    @property
    def base_url(self) -> str:
        return f"{self.scheme}://127.0.0.1:{self.port}"

    def url(self, path: str = "/shot.jpg", *, auth: bool = False) -> str:
        """The full URL of ``path``; ``auth=True`` puts the credentials in it (user:pass@)."""
        if not path.startswith("/"):
            path = "/" + path
        userinfo = f"{self.username}:{self.password}@" if auth else ""
        return f"{self.scheme}://{userinfo}127.0.0.1:{self.port}{path}"

    def start(self) -> CameraServer:
        self._thread = threading.Thread(
            target=self._httpd.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"camera-server-{self.port}",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving; hanging and streaming responses end at once."""
        self.stopping.set()
        if self._thread is not None:
            self._httpd.shutdown()
            self._thread.join(timeout=5)
            self._thread = None
        self._httpd.server_close()

    def __enter__(self) -> CameraServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # --- control and inspection ---------------------------------------------------------------
    def route(self, path: str, behaviour: str) -> None:
        """Serve ``behaviour`` (a key of ``BEHAVIOURS``) at ``path``; replaces any earlier one."""
        if behaviour not in BEHAVIOURS:
            raise ValueError(f"unknown behaviour {behaviour!r}; known: {', '.join(BEHAVIOURS)}")
        with self._lock:
            self.routes[path] = behaviour

    def hits(self, path: str) -> int:
        """How many requests arrived for ``path`` (query string ignored)."""
        with self._lock:
            return self._counts[path]

    @property
    def counts(self) -> dict[str, int]:
        """Requests per path so far (a copy)."""
        with self._lock:
            return dict(self._counts)

    def total_hits(self) -> int:
        with self._lock:
            return sum(self._counts.values())

    def reset_counts(self) -> None:
        with self._lock:
            self._counts.clear()

    def last_headers(self, path: str) -> dict[str, str]:
        """The headers of the latest request for ``path`` (names lower-cased)."""
        with self._lock:
            return dict(self._headers.get(path, {}))

    # --- used by the handler ------------------------------------------------------------------
    def _record(self, path: str, headers: dict[str, str]) -> str | None:
        with self._lock:
            self._counts[path] += 1
            self._headers[path] = headers
            return self.routes.get(path)

    def still_jpeg(self, clock: bool = False) -> bytes:
        """The static picture with fresh noise of sigma 1.5 (a live sensor: nothing in the
        scene moves), or as it is with the request's number drawn on as a clock (``clock``:
        a frozen camera re-encoding its last picture with the time stamped on)."""
        import numpy as np

        with self._lock:
            self._serial += 1
            number = self._serial
        # a scene with texture everywhere, as a real one has: a diagonal ramp (no two
        # neighbouring cells of a perceptual hash alike) under a few boxes
        width, height = self.frame_size
        ramp = np.add.outer(np.arange(height) * 0.5, np.arange(width) * 0.2) % 200 + 20
        picture = Image.fromarray(ramp.astype(np.uint8)).convert("RGB")
        draw = ImageDraw.Draw(picture)
        for k in range(6):
            box = (k * width // 7, k * height // 9, k * width // 7 + width // 8, height - k * 9)
            draw.rectangle(box, fill=(40 * k, 200 - 30 * k, 90))
        if clock:
            ImageDraw.Draw(picture).text((8, 8), f"12:00:{number % 60:02d}", fill=(255, 255, 255))
        else:
            pixels = np.asarray(picture, dtype=np.float32)
            noise = np.random.default_rng(number).normal(0, 1.5, pixels.shape)
            picture = Image.fromarray(np.clip(np.rint(pixels + noise), 0, 255).astype(np.uint8))
        out = io.BytesIO()
        picture.save(out, "JPEG", quality=85)
        return out.getvalue()

    def next_jpeg(self, brightness: float = 1.0) -> bytes:
        with self._lock:
            self._serial += 1
            number = self._serial
        return make_jpeg(self.frame_size, number=number, brightness=brightness)

    def digest_ok(self, header: str, method: str) -> bool:
        """Check an RFC 7616 MD5 ``Authorization: Digest`` header against our credentials."""
        if not header.lower().startswith("digest "):
            return False
        fields = _parse_digest(header[7:])
        if fields.get("username") != self.username or fields.get("realm") != self.realm:
            return False

        def md5(text: str) -> str:
            return hashlib.md5(text.encode()).hexdigest()

        ha1 = md5(f"{self.username}:{self.realm}:{self.password}")
        ha2 = md5(f"{method}:{fields.get('uri', '')}")
        if fields.get("qop"):
            parts = [ha1, fields.get("nonce", ""), fields.get("nc", ""), fields.get("cnonce", "")]
            expected = md5(":".join([*parts, fields["qop"], ha2]))
        else:
            expected = md5(f"{ha1}:{fields.get('nonce', '')}:{ha2}")
        return secrets.compare_digest(expected, fields.get("response", ""))


def _parse_digest(text: str) -> dict[str, str]:
    fields: dict[str, str] = {}
    for item in _split_commas(text):
        key, _, value = item.strip().partition("=")
        fields[key.strip().lower()] = value.strip().strip('"')
    return fields


def _split_commas(text: str) -> list[str]:
    """Split on commas outside double quotes."""
    items, current, quoted = [], [], False
    for ch in text:
        if ch == '"':
            quoted = not quoted
        if ch == "," and not quoted:
            items.append("".join(current))
            current = []
        else:
            current.append(ch)
    items.append("".join(current))
    return [i for i in items if i.strip()]


class _Server(ThreadingHTTPServer):
    # a deep accept backlog: 50 cameras firing at once must not wait for SYN retries (1 s each)
    request_queue_size = 256
    daemon_threads = True


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "PylapseTestCamera/1.0"

    def log_message(self, format: str, *args: object) -> None:
        """Quiet: tests read counts, not logs."""

    @property
    def cam(self) -> CameraServer:
        return self.server.camera  # type: ignore[attr-defined]

    def do_GET(self) -> None:
        path = urlsplit(self.path).path
        headers = {k.lower(): v for k, v in self.headers.items()}
        behaviour = self.cam._record(path, headers) or "notfound"
        handler = getattr(self, "_b_" + behaviour.replace("-", "_"))
        try:
            handler()
        except (BrokenPipeError, ConnectionResetError, TimeoutError):
            self.close_connection = True  # the client gave up: exactly what faults test

    # --- helpers ------------------------------------------------------------------------------
    def _send(self, status: int, body: bytes, ctype: str, extra: dict[str, str] | None = None):
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        for key, value in (extra or {}).items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(body)

    def _wait(self, seconds: float) -> bool:
        """Sleep, returning True when the server is stopping (so streams end at once)."""
        return self.cam.stopping.wait(seconds)

    # --- behaviours ---------------------------------------------------------------------------
    def _b_jpeg(self) -> None:
        self._send(200, self.cam.next_jpeg(), "image/jpeg")

    def _b_static(self) -> None:
        self._send(200, self.cam.static_jpeg, "image/jpeg")

    def _b_still(self) -> None:
        self._send(200, self.cam.still_jpeg(), "image/jpeg")

    def _b_frozen_clock(self) -> None:
        self._send(200, self.cam.still_jpeg(clock=True), "image/jpeg")

    def _b_blank(self) -> None:
        self._send(200, self.cam.blank_jpeg, "image/jpeg")

    def _b_dark(self) -> None:
        self._send(200, self.cam.next_jpeg(brightness=0.1), "image/jpeg")

    def _b_png(self) -> None:
        self._send(200, make_jpeg(self.cam.frame_size, number=1, fmt="PNG"), "image/png")

    def _b_error500(self) -> None:
        self._send(500, b"internal camera error\n", "text/plain")

    def _b_notfound(self) -> None:
        self._send(404, b"no such endpoint\n", "text/plain")

    def _b_hang(self) -> None:
        self._wait(3600)
        self.close_connection = True

    def _b_slow(self) -> None:
        if not self._wait(self.cam.slow_seconds):
            self._b_jpeg()

    def _b_drip(self) -> None:
        body = self.cam.next_jpeg()
        self.send_response(200)
        self.send_header("Content-Type", "image/jpeg")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        for start in range(0, len(body), 16):
            self.wfile.write(body[start : start + 16])
            self.wfile.flush()
            if self._wait(self.cam.drip_interval):
                break
        self.close_connection = True

    def _b_html(self) -> None:
        page = b"<!doctype html><html><head><title>Login</title></head><body>"
        page += b"<form><input name=user><input type=password name=pass></form></body></html>"
        self._send(200, page, "text/html; charset=utf-8")

    def _b_truncated(self) -> None:
        body = self.cam.next_jpeg()
        self._send(200, body[: len(body) // 2], "image/jpeg")

    def _b_half(self) -> None:
        self._send(200, cut_jpeg(self.cam.next_jpeg()), "image/jpeg")

    def _b_padded(self) -> None:
        self._send(200, self.cam.next_jpeg() + bytes(512), "image/jpeg")

    def _b_progressive(self) -> None:
        self._send(200, make_jpeg(self.cam.frame_size, number=2, progressive=True), "image/jpeg")

    def _b_query(self) -> None:
        query = dict(parse_qsl(urlsplit(self.path).query, keep_blank_values=True))
        if all(query.get(k) == v for k, v in self.cam.required_query.items()):
            self._b_jpeg()
            return
        self._send(401, b"wrong or missing credentials in the query\n", "text/plain")

    def _b_empty(self) -> None:
        self._send(200, b"", "image/jpeg")

    def _huge_chunks(self):
        chunk = bytes(_CHUNK)
        yield b"\xff\xd8\xff\xe0" + chunk[4:]
        for _ in range(HUGE_BYTES // _CHUNK - 1):
            if self.cam.stopping.is_set():
                return
            yield chunk

    def _b_huge(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "image/jpeg")
        self.send_header("Content-Length", str(HUGE_BYTES))
        self.end_headers()
        for chunk in self._huge_chunks():
            self.wfile.write(chunk)
        self.close_connection = True

    def _b_huge_chunked(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "image/jpeg")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        for chunk in self._huge_chunks():
            self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
        self.wfile.write(b"0\r\n\r\n")
        self.close_connection = True

    def _b_basic(self) -> None:
        cam = self.cam
        token = base64.b64encode(f"{cam.username}:{cam.password}".encode()).decode()
        if self.headers.get("Authorization", "") == f"Basic {token}":
            self._b_jpeg()
            return
        challenge = {"WWW-Authenticate": f'Basic realm="{cam.realm}"'}
        self._send(401, b"authorization required\n", "text/plain", challenge)

    def _b_digest(self) -> None:
        cam = self.cam
        if cam.digest_ok(self.headers.get("Authorization", ""), self.command):
            self._b_jpeg()
            return
        nonce = secrets.token_hex(16)
        challenge = (
            f'Digest realm="{cam.realm}", qop="auth", algorithm=MD5, '
            f'nonce="{nonce}", opaque="{cam.opaque}"'
        )
        self._send(401, b"authorization required\n", "text/plain", {"WWW-Authenticate": challenge})

    def _b_redirect(self) -> None:
        self._send(302, b"", "text/plain", {"Location": "/shot.jpg"})

    def _b_redirect_loop(self) -> None:
        self._send(302, b"", "text/plain", {"Location": urlsplit(self.path).path})

    def _b_headers(self) -> None:
        body = json.dumps({k.lower(): v for k, v in self.headers.items()}).encode()
        self._send(200, body, "application/json")

    def _stream_start(self, boundary: str | None) -> None:
        self.send_response(200)
        if boundary is not None:
            self.send_header("Content-Type", f"multipart/x-mixed-replace; boundary={boundary}")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Connection", "close")
        self.end_headers()
        self.close_connection = True

    def _stream(self, boundary_line: bytes, with_length: bool) -> None:
        interval = 1.0 / self.cam.mjpeg_fps
        while not self.cam.stopping.is_set():
            frame = self.cam.next_jpeg()
            head = boundary_line + b"\r\nContent-Type: image/jpeg\r\n"
            if with_length:
                head += b"Content-Length: %d\r\n" % len(frame)
            self.wfile.write(head + b"\r\n" + frame + b"\r\n")
            self.wfile.flush()
            if self._wait(interval):
                return

    def _b_mjpeg(self) -> None:
        self._stream_start("frame")
        self._stream(b"--frame", with_length=True)

    def _b_mjpeg_nolength(self) -> None:
        self._stream_start("--myboundary")
        self._stream(b"--myboundary", with_length=False)

    def _b_mjpeg_bare(self) -> None:
        self._stream_start(None)
        self._stream(b"--frame", with_length=True)

    def _b_jpeg_bare(self) -> None:
        body = self.cam.next_jpeg()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _b_mjpeg_stall(self) -> None:
        self._stream_start("frame")
        self.wfile.write(b"--frame\r\nContent-Type: image/jpeg\r\n\r\n\xff\xd8\xff\xe0")
        self.wfile.flush()
        self._wait(3600)

    def _b_mjpeg_endless(self) -> None:
        self._stream_start("frame")
        self.wfile.write(b"--frame\r\nContent-Type: image/jpeg\r\n\r\n\xff\xd8")
        chunk = b"\x00" * _CHUNK
        while not self.cam.stopping.is_set():
            self.wfile.write(chunk)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Serve the test HTTP camera on 127.0.0.1.")
    parser.add_argument("--port", type=int, default=8099)
    args = parser.parse_args(argv)
    with CameraServer(args.port) as cam:
        print(f"test camera at {cam.url('/shot.jpg')} (Ctrl-C stops)", flush=True)
        try:
            while not cam.stopping.wait(1):
                pass
        except KeyboardInterrupt:
            pass
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
