#!/usr/bin/env bash
# Set up pyLapse in ./.venv (first run only) and start the dashboard on 127.0.0.1:8000.
# Extra arguments go to web_ui.py, e.g. ./start_ui.sh --port 8080
set -euo pipefail
cd "$(dirname "$0")"

PYTHON=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  echo "Creating .venv ..."
  "$PYTHON" -m venv .venv
fi
# Reinstall only when the project changed since the last install.
stamp=.venv/.pylapse-installed
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
  echo "Installing pyLapse into .venv ..."
  .venv/bin/python -m pip install --quiet --upgrade pip
  .venv/bin/python -m pip install --quiet -e .
  touch "$stamp"
fi

if [ ! -f capture_config.json ]; then
  cp capture_config.example.json capture_config.json
  # The example says "layout": "day_folders", so a new config keeps a folder per day. An existing
  # capture_config.json (one from pyLapse 0.2, say) is never touched: 0.2's stays flat.
  echo "Created capture_config.json from capture_config.example.json (the demo camera captures at once)."
fi

exec .venv/bin/python web_ui.py --config capture_config.json "$@"
