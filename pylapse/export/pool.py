"""A process pool whose workers never import the user's main module.

multiprocessing's spawn and forkserver start methods hand each new process "preparation data",
and when the parent was started as ``python script.py`` (or ``python -m module``) that data names
the script, which the child then runs again as ``__mp_main__`` before doing any work. A script
without an ``if __name__ == "__main__":`` guard therefore exports again inside every worker, which
starts workers of its own and breaks the pool (``BrokenProcessPool``); a notebook or ``python -c``
happened to work only because they have no script file. The workers here run only pyLapse
functions on plain data, so they never need ``__main__``: the main script is left out of their
preparation data, and every public call works the same from a script, a notebook, ``python -c``
and the REPL.

The standard library has no switch for this. Its process classes read the preparation data from
``multiprocessing.spawn.get_preparation_data`` while starting a process, so that function is
wrapped once (when the first pool is made, not at import) and leaves the main module out only for
processes started by this module's process classes, on the thread starting them; every other
process in the program (the user's own pools included) keeps the standard behaviour.
"""

from __future__ import annotations

import concurrent.futures as cf
import contextlib
import multiprocessing
import sys
import threading
from collections.abc import Callable, Iterator, Sequence
from multiprocessing import context as mp_context
from multiprocessing import spawn
from typing import Any

__all__ = ["MAIN_KEYS", "process_pool"]

# the preparation data entries that make a child run the parent's main module again
MAIN_KEYS = ("init_main_from_name", "init_main_from_path")

_starting = threading.local()  # set while this thread starts one of our workers
_install_lock = threading.Lock()


@contextlib.contextmanager
def _main_left_out() -> Iterator[None]:
    _starting.active = True
    try:
        yield
    finally:
        _starting.active = False


def _install() -> None:
    """Wrap ``spawn.get_preparation_data`` once (idempotent, thread-safe)."""
    with _install_lock:
        original = spawn.get_preparation_data
        if getattr(original, "_pylapse_wrapper", False):
            return

        def get_preparation_data(name: str) -> dict[str, Any]:
            data: dict[str, Any] = original(name)
            if getattr(_starting, "active", False):
                for key in MAIN_KEYS:
                    data.pop(key, None)
            return data

        get_preparation_data._pylapse_wrapper = True  # type: ignore[attr-defined]
        spawn.get_preparation_data = get_preparation_data


# The process classes must live at module level: spawn pickles the process object by reference.


class _SpawnProcess(mp_context.SpawnProcess):
    @staticmethod
    def _Popen(process_obj: Any) -> Any:
        with _main_left_out():
            return mp_context.SpawnProcess._Popen(process_obj)


class _SpawnContext(mp_context.SpawnContext):
    Process = _SpawnProcess


if sys.platform != "win32":

    class _ForkServerProcess(mp_context.ForkServerProcess):
        @staticmethod
        def _Popen(process_obj: Any) -> Any:
            with _main_left_out():
                return mp_context.ForkServerProcess._Popen(process_obj)

    class _ForkServerContext(mp_context.ForkServerContext):
        Process = _ForkServerProcess


def _context(preload: Sequence[str]) -> multiprocessing.context.BaseContext:
    # forkserver: safe from a multi-threaded parent (the web app), and workers start from a
    # clean process that already imported ``preload``; spawn where there is no forkserver
    if sys.platform != "win32" and "forkserver" in multiprocessing.get_all_start_methods():
        context: multiprocessing.context.BaseContext = _ForkServerContext()
        if preload:
            context.set_forkserver_preload(list(preload))
        return context
    return _SpawnContext()


def process_pool(
    workers: int,
    initializer: Callable[..., object] | None = None,
    initargs: tuple[Any, ...] = (),
    preload: Sequence[str] = (),
) -> cf.ProcessPoolExecutor:
    """A ``ProcessPoolExecutor`` of ``workers`` processes that never import ``__main__``.

    ``initializer`` and the functions submitted must be importable from pyLapse (or any module
    but the main one); ``preload`` names modules the forkserver imports once for all workers.
    """
    _install()
    return cf.ProcessPoolExecutor(
        max_workers=workers,
        mp_context=_context(preload),
        initializer=initializer,
        initargs=initargs,
    )
