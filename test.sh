#!/usr/bin/env bash
# Create the test environment in ./.venv, install what the tests need, run the whole suite.
# Extra arguments go to pytest, e.g. ./test.sh -k naming -x
set -euo pipefail
cd "$(dirname "$0")"

PYTHON=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
stamp=.venv/.pylapse-dev-installed
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
  .venv/bin/python -m pip install --quiet --upgrade pip
  .venv/bin/python -m pip install --quiet -e ".[dev]"
  touch "$stamp"
fi

# Debian packages the tests use: chromium for the browser tests, ffprobe to inspect rendered
# videos, the GStreamer RTSP server for the RTSP source test. Playwright's own browser download cannot work offline, so we use Debian's.
apt_packages=()
command -v chromium >/dev/null 2>&1 || apt_packages+=(chromium)
command -v ffprobe >/dev/null 2>&1 || apt_packages+=(ffmpeg)  # ffprobe checks rendered videos
# the export's YCbCr-planes path (pylapse/imaging/turbo.py) loads the system libturbojpeg
/usr/bin/python3 -c 'import ctypes.util, sys; sys.exit(not ctypes.util.find_library("turbojpeg"))' \
  >/dev/null 2>&1 || apt_packages+=(libturbojpeg0)
if ! /usr/bin/python3 -c 'import gi; gi.require_version("GstRtspServer", "1.0"); from gi.repository import GstRtspServer' >/dev/null 2>&1; then
  apt_packages+=(python3-gi gir1.2-gst-rtsp-server-1.0 gstreamer1.0-plugins-base gstreamer1.0-plugins-good gstreamer1.0-plugins-ugly gstreamer1.0-x)
fi
if [ ${#apt_packages[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "Installing Debian packages for the tests: ${apt_packages[*]}"
    apt-get update -qq >/dev/null 2>&1 || true
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${apt_packages[@]}" >/dev/null \
      || echo "warning: apt-get could not install ${apt_packages[*]}; the tests that need them skip"
  else
    echo "note: ${apt_packages[*]} missing and not root: run 'sudo apt-get install ${apt_packages[*]}';" \
         "the browser and RTSP tests skip until then"
  fi
fi

# Services the scaling-out tests use (issue 21): PostgreSQL, Redis and RabbitMQ on 127.0.0.1. One
# that is installed but stopped is started here; one that is missing makes its tests skip (saying
# how to start it), or fail with CI=true.
port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
if ! port_open 5432 && command -v pg_ctlcluster >/dev/null 2>&1 && [ -d /etc/postgresql ]; then
  echo "Starting PostgreSQL on 127.0.0.1:5432 for the index tests"
  for version in $(ls /etc/postgresql); do
    pg_ctlcluster --skip-systemctl-redirect "$version" main start >/dev/null 2>&1 \
      || echo "warning: PostgreSQL $version did not start; the index tests' PostgreSQL half skips"
  done
  for _ in $(seq 30); do port_open 5432 && break; sleep 1; done
fi
if ! port_open 6379 && command -v redis-server >/dev/null 2>&1; then
  echo "Starting Redis on 127.0.0.1:6379 for the Celery tests"
  redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no >/dev/null \
    || echo "warning: redis-server did not start; the Celery tests skip"
fi
if ! port_open 5672 && command -v rabbitmq-server >/dev/null 2>&1; then
  echo "Starting RabbitMQ on 127.0.0.1:5672 for the Celery tests"
  rabbitmq-server -detached >/dev/null 2>&1 || echo "warning: rabbitmq-server did not start"
  for _ in $(seq 60); do port_open 5672 && break; sleep 1; done
fi

.venv/bin/python -m ruff check .
.venv/bin/python -m mypy  # pylapse/ and web/, configured in pyproject.toml
# One pytest process per core, up to 4 (each takes its own PostgreSQL database and Redis
# database, 12-15): much of the suite waits on servers, browsers and ffmpeg rather than
# computing, and a 2-core machine runs it in about half the time of one process. Arguments
# given to this script come after, so `./test.sh -n 0` runs in one process (for --pdb).
workers=$(nproc 2>/dev/null || echo 2)
[ "$workers" -gt 4 ] && workers=4
[ "$workers" -lt 2 ] && workers=2
.venv/bin/python -m pytest -n "$workers" "$@"
