"""The slow poll of the config file: a thread that has a :class:`~pylapse.config.watch.ConfigWatch`
check the file every :data:`CONFIG_POLL_SECONDS`, so a hand edit reaches an app that nothing
reads the config of (headless capture). Reads pick edits up by themselves; this is for the rest.
"""

from __future__ import annotations

import logging
import threading

from pylapse.config.watch import ConfigWatch

__all__ = ["CONFIG_POLL_SECONDS", "ConfigPoll"]

log = logging.getLogger(__name__)

CONFIG_POLL_SECONDS = 2.0  # how soon a hand edit reaches an app nobody is looking at


class ConfigPoll:
    """Checks ``watch`` every :data:`CONFIG_POLL_SECONDS` between :meth:`start` and :meth:`stop`."""

    def __init__(self, watch: ConfigWatch) -> None:
        self.watch = watch
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Start the polling thread (a no-op while it runs)."""
        if self._thread is not None:
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="pylapse-config-watch", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop the thread: a check under way finishes first (waited for up to 5 s)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def _run(self) -> None:
        while not self._stop.wait(CONFIG_POLL_SECONDS):
            try:
                self.watch.check()
            except Exception:  # a bad moment on a network share must not end the watch
                log.exception("checking the config file failed (will retry)")
