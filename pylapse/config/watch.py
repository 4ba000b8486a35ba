"""The config file as a running pyLapse sees it: hand edits are picked up, never overwritten.

``capture_config.json`` belongs to the user as much as to the dashboard (it is meant to be edited
by hand), so a running app must not treat its copy in memory as the truth:

* the file's stamp (inode, size, mtime, ctime) is checked on every read and before every save,
  and by a slow poll for apps nobody is looking at (headless capture); a changed file is read
  again. A valid edit is applied at once (``apply``) and noted for the dashboard; an invalid one
  is reported (:attr:`ConfigWatch.notice`) while the last valid config keeps running, and every
  save is refused until it is fixed, so the broken file is never overwritten;
* saves are a compare-and-swap. Each change made on disk by someone else starts a new
  *generation*; a caller passes the :attr:`~ConfigWatch.token` it read (a web form carries the
  token of the page it was loaded with) and a save from an older generation is refused with
  :class:`~pylapse.config.ConfigConflict`. The app's own saves keep the generation, so two tabs
  of the dashboard do not refuse each other (their edits are serialised on the latest copy).
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from pathlib import Path

from pylapse import timeutil
from pylapse.config.base import ConfigConflict, ConfigError
from pylapse.config.file import FileStamp, loads_config, read_config_file, save_config, to_json
from pylapse.config.models import Config

__all__ = ["ConfigNotice", "ConfigStatus", "ConfigWatch"]

log = logging.getLogger(__name__)


class ConfigStatus(StrEnum):
    RELOADED = "reloaded"  # a hand edit was loaded and is in effect
    INVALID = "invalid"  # the file cannot be used; the last valid config keeps running
    MISSING = "missing"  # the file is gone; a save from the dashboard writes it again


@dataclass(frozen=True, slots=True)
class ConfigNotice:
    """What the dashboard should say about the file, and since when."""

    status: ConfigStatus
    message: str
    at: datetime  # when the file changed (its mtime), or when it was found missing

    @property
    def blocks_saves(self) -> bool:
        return self.status is ConfigStatus.INVALID


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class ConfigWatch:
    """Keeps ``config`` in step with the file at ``path``; ``apply`` switches the app to a
    config loaded from a hand edit (it may raise :class:`ConfigError` to refuse it, e.g. a
    moved data folder that needs a restart)."""

    def __init__(self, path: Path, config: Config, apply: Callable[[Config], None]) -> None:
        self.path = path
        self._config = config
        self._apply = apply
        self._lock = threading.RLock()
        self._stamp: FileStamp | None = config._stamp
        self._digest: str | None = None  # of the file's text in effect: tells a touch from an edit
        now = FileStamp.of(path)
        if now is not None and (self._stamp is None or now == self._stamp):
            with contextlib.suppress(ConfigError):  # unreadable now: the first check says so
                self._stamp, self._digest = now, _digest(read_config_file(path)[0])
        self._generation = 0
        self._boot = secrets.token_hex(4)  # tokens of an earlier run never match this one
        self._notice: ConfigNotice | None = None

    # -- reading ---------------------------------------------------------------------------------

    @property
    def config(self) -> Config:
        """The config in effect, after picking up any change of the file."""
        self.check()
        return self._config

    @property
    def token(self) -> str:
        """The generation a page or a caller read; pass it back to :meth:`save`."""
        return f"{self._boot}-{self._generation}"

    def snapshot(self) -> tuple[Config, str]:
        """The config in effect and its token, read together."""
        self.check()
        with self._lock:
            return self._config, self.token

    @property
    def notice(self) -> ConfigNotice | None:
        self.check()
        return self._notice

    def check(self, *, force: bool = False) -> bool:
        """Read the file again if its stamp changed (or ``force``); True when a new config was
        applied. Cheap when nothing changed: one ``stat``."""
        if not force and FileStamp.of(self.path) == self._stamp:
            return False
        with self._lock:
            stamp = FileStamp.of(self.path)
            if not force and stamp == self._stamp:
                return False  # another thread got here first
            return self._reload(stamp)

    def _reload(self, stamp: FileStamp | None) -> bool:
        self._stamp = stamp
        if stamp is None:
            self._set(ConfigStatus.MISSING, f"{self.path}: the config file is gone; pyLapse keeps "
                      "running on the version it loaded, and a save from the dashboard writes it "
                      "again", timeutil.now())  # fmt: skip
            return False
        try:
            text, stamp = read_config_file(self.path)
            self._stamp = stamp
            if _digest(text) == self._digest:  # touched or rewritten unchanged
                self._clear_problem()
                return False
            config = loads_config(text, self.path)
            config._stamp = stamp
            self._apply(config)
        except ConfigError as exc:
            self._generation += 1  # a form loaded before this must not save over it later
            self._set(ConfigStatus.INVALID, str(exc), stamp.modified if stamp else timeutil.now())
            return False
        self._generation += 1
        self._config, self._digest = config, _digest(text)
        when = stamp.modified if stamp else timeutil.now()
        self._set(ConfigStatus.RELOADED, f"{self.path} changed on disk at {when:%H:%M} and was "
                  "reloaded: the changes are in effect", when)  # fmt: skip
        return True

    def _set(self, status: ConfigStatus, message: str, at: datetime) -> None:
        previous = self._notice
        self._notice = ConfigNotice(status, message, at)
        if previous is None or previous.message != message:
            level = logging.INFO if status is ConfigStatus.RELOADED else logging.WARNING
            log.log(level, "%s", message)

    def _clear_problem(self) -> None:
        if self._notice is not None and self._notice.status is not ConfigStatus.RELOADED:
            self._notice = None

    # -- writing ---------------------------------------------------------------------------------

    def check_token(self, expect: str | None) -> None:
        """Raise :class:`ConfigConflict` when ``expect`` is a token of an older generation."""
        if expect is not None and expect != self.token:
            when = self._stamp.modified if self._stamp else timeutil.now()
            raise ConfigConflict(
                f"{self.path}: not saved: the config file changed on disk at {when:%H:%M}; "
                "reload the page to see it"
            )

    def save(self, config: Config, expect: str | None = None) -> Path:
        """Write ``config`` to the file and switch to it (``apply``), unless the file changed on
        disk since ``expect`` was read or holds an error the user has to fix first (then
        :class:`ConfigConflict` is raised and nothing is written)."""
        with self._lock:
            self.check()
            notice = self._notice
            if notice is not None and notice.blocks_saves:
                first = notice.message.splitlines()[0]
                raise ConfigConflict(
                    f"{self.path}: not saved: the file on disk has an error ({first}); fix it "
                    "in an editor first (pyLapse never overwrites it)"
                )
            self.check_token(expect)
            path = save_config(config, self.path, expect=self._stamp)
            self._config, self._stamp = config, config._stamp
            self._digest = _digest(to_json(config))
            if notice is not None and notice.status is ConfigStatus.MISSING:
                self._notice = None
            self._apply(config)
            return path
