"""`pylapse web` (= `web_ui.py`): serve the dashboard with uvicorn.

The web package contributes this command to `pylapse` through the ``pylapse.commands`` entry
point (pyproject.toml), so the library never imports the web layer.

Binds 127.0.0.1 unless told otherwise, and refuses any non-loopback address while no dashboard
password is configured. Ctrl-C / SIGTERM shut down cleanly through uvicorn's own handling: the
app's lifespan stops the scheduler and the job runner; nothing calls ``os._exit``.
"""

from __future__ import annotations

import argparse
import ipaddress
import logging
import signal
import socket
from pathlib import Path

from pylapse.cli import CommandError


class _Terminated(Exception):
    """SIGTERM arrived (re-raised by uvicorn after its graceful shutdown)."""


def _terminated(signum: int, frame: object) -> None:
    raise _Terminated()


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "web",
        help="serve the dashboard",
        description="Serve the pyLapse dashboard (cameras, collections, exports, videos).",
    )
    parser.add_argument(
        "--host", default=None, help="address to bind (default: web.host, i.e. 127.0.0.1)"
    )
    parser.add_argument("--port", type=int, default=None, help="port (default: web.port, 8000)")
    parser.add_argument(
        "--config",
        type=Path,
        default=None,
        help="config file (default: $PYLAPSE_CAPTURE_CONFIG, $PYLAPSE_CONFIG, "
        "else ./capture_config.json)",
    )
    parser.add_argument(
        "--no-capture",
        action="store_true",
        help="dashboard only, no scheduled capture",
    )
    parser.set_defaults(func=run)


def _is_loopback(host: str) -> bool:
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False  # a host name other than localhost: it may resolve to anything


def check_bind(host: str, password_hash: str | None, config_path: Path) -> None:
    """Refuse a non-loopback address without a password (the dashboard controls cameras)."""
    if _is_loopback(host) or password_hash:
        return
    raise CommandError(
        f"refusing to serve on {host}: no dashboard password is set, and anyone on the network "
        f"could control your cameras. Set one with `pylapse set-password --config {config_path}` "
        "and start again, or serve on 127.0.0.1 only (the default)."
    )


def check_port_free(host: str, port: int) -> None:
    """Fail before capture starts when the address is taken (uvicorn would only find out after
    the scheduler had started)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn binds
        try:
            probe.bind((host.strip("[]"), port))
        except OSError as exc:
            raise CommandError(
                f"cannot listen on {host}:{port}: {exc.strerror or exc}; is another dashboard "
                "running there? Choose another --port."
            ) from None


def run(args: argparse.Namespace) -> int:
    import uvicorn

    from pylapse.cli import default_config_path, load_config_or_fail
    from pylapse.redact import mask_logging
    from pylapse.runtime import Runtime
    from web.app import create_app

    config_path = args.config or default_config_path()
    config = load_config_or_fail(config_path)
    host = args.host or config.web.host
    port = args.port or config.web.port
    if not 1 <= port <= 65535:
        raise CommandError(f"--port {port}: must be between 1 and 65535")
    check_bind(host, config.web.password_hash, config_path)
    check_port_free(host, port)

    runtime = Runtime(config, config_path=config_path, scheduler=not args.no_capture)
    # Capture starts before binding, on the cameras whose leases nobody else holds (a second
    # dashboard or autocapture on the same data waits for the others' cameras).
    runtime.start()
    # The lifespan's start() is then a no-op; its stop() runs on shutdown, before uvicorn
    # re-raises SIGINT/SIGTERM, so capture and jobs stop cleanly whichever signal it was.
    app = create_app(runtime, bound_host=host)
    server_config = uvicorn.Config(
        app,
        host=host,
        port=port,
        log_level="info",
        timeout_graceful_shutdown=5,  # open SSE/MJPEG streams must not hold shutdown up
        proxy_headers=False,  # the client address is the socket's: it decides about login
    )
    # uvicorn has just set up handlers of its own (not the root's, which `pylapse` masks): its
    # access and error lines are masked the same way
    mask_logging(logging.getLogger("uvicorn"), logging.getLogger("uvicorn.access"))
    server = uvicorn.Server(server_config)
    shown = f"[{host}]" if ":" in host else host
    print(f"pyLapse dashboard on http://{shown}:{port}/  (Ctrl-C stops it)", flush=True)
    # uvicorn handles SIGINT/SIGTERM itself, then re-raises the signal through the handler that
    # was there before: ours turns that into a normal return instead of a kill by signal.
    previous = signal.signal(signal.SIGTERM, _terminated)
    try:
        server.run()
    except (KeyboardInterrupt, _Terminated):
        pass  # uvicorn has already shut down cleanly; that is a normal stop
    finally:
        signal.signal(signal.SIGTERM, previous)
        runtime.stop()  # idempotent: already stopped by the lifespan unless startup failed
    return 0 if server.started else 1
