#!/usr/bin/env bash
# Run benchmarks: ./bench.sh NAME [args]   (NAME = a file bench/NAME.py; no NAME lists them)
# Every benchmark prints one line per measure: name, ours, baseline, ratio, goal.
set -euo pipefail
cd "$(dirname "$0")"
if [ ! -x .venv/bin/python ]; then
  echo "run ./test.sh (or ./start_ui.sh) once first to create .venv" >&2
  exit 2
fi
if [ $# -eq 0 ]; then
  echo "usage: ./bench.sh NAME [options]; benchmarks:"
  for f in bench/*.py; do
    n=$(basename "$f" .py)
    case "$n" in _*) continue ;; esac
    echo "  $n"
  done
  exit 0
fi
name=$1; shift
case "$name" in select) name=selection ;; esac  # the name it had before bench/selection.py
if [ ! -f "bench/$name.py" ]; then
  echo "no benchmark bench/$name.py" >&2
  exit 2
fi
# the repo root on PYTHONPATH lets benchmarks (and the processes they start) import
# bench._harness and pylapse
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"
exec .venv/bin/python "bench/$name.py" "$@"
