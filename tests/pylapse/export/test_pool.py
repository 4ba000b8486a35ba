"""process_pool: workers never run the user's main script (forkserver and spawn alike), and the
user's own process pools keep multiprocessing's standard behaviour."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[3]

# A plain script, no main guard: its top level records each run, then uses pyLapse's pool.
_SCRIPT = """
import concurrent.futures as cf
import os
import sys

from pylapse.export import pool as workerpool

open("runs.txt", "a").write("ran\\n")
if sys.argv[1] == "spawn":  # the start method where there is no forkserver (Windows)
    workerpool._install()
    pool = cf.ProcessPoolExecutor(2, mp_context=workerpool._SpawnContext())
else:
    pool = workerpool.process_pool(2, preload=["pylapse.export.pool"])
with pool:
    print(sorted(pool.map(abs, [-1, -2, -3, -4])))
"""

# The user's own spawn pool after pyLapse's has run: the function lives in the main module, so
# the child must still be given the main script (the standard behaviour).
_OWN_POOL = """
import concurrent.futures as cf
import multiprocessing

from pylapse.export import pool as workerpool


def double(x):
    return 2 * x


if __name__ == "__main__":
    with workerpool.process_pool(1) as pool:
        assert list(pool.map(abs, [-1])) == [1]
    with cf.ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as pool:
        print(list(pool.map(double, [1, 2])))
"""


def _run(script: str, tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    (tmp_path / "user_script.py").write_text(script, encoding="utf-8")
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(REPO), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    return subprocess.run(
        [sys.executable, "user_script.py", *args],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.mark.parametrize("method", ["default", "spawn"])
def test_workers_never_run_the_main_script(tmp_path: Path, method: str) -> None:
    done = _run(_SCRIPT, tmp_path, method)
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.strip() == "[1, 2, 3, 4]"
    assert (tmp_path / "runs.txt").read_text(encoding="utf-8") == "ran\n"


def test_the_users_own_pools_still_get_their_main_module(tmp_path: Path) -> None:
    done = _run(_OWN_POOL, tmp_path)
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.strip() == "[2, 4]"
