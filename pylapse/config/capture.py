"""The ``capture`` block of the config, and host names (issue 21 §2: several capture hosts).

Several ``pylapse capture`` hosts may share one config, index and frame storage; each camera is
captured by one host at a time, which holds its lease in the index database
(:mod:`pylapse.capture.leases`). A camera's ``capture_host`` pins it to the host of that name;
an unpinned camera runs wherever a scheduler holds its lease.

A host's name is, first found: ``pylapse capture --host NAME``, ``$PYLAPSE_HOST``, this block's
``host``, the machine's host name. A shared config normally leaves ``host`` unset (every host
would read the same name) and lets each machine be known by its own host name.
"""

from __future__ import annotations

import os
import re
import socket

from pydantic import Field, field_validator

from pylapse.config.base import _Model

__all__ = ["HOST_ENV", "CaptureSettings", "check_host_name", "host_name"]

HOST_ENV = "PYLAPSE_HOST"
_HOST = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$")


def check_host_name(value: str) -> str:
    """``value`` if it is a usable host name, else ValueError saying what is accepted."""
    if not _HOST.match(value):
        raise ValueError(
            f"{value!r} is not a host name: use 1-63 letters, digits, '.', '_' or '-', "
            "starting with a letter or digit (e.g. 'pi-garden')"
        )
    return value


class CaptureSettings(_Model):
    host: str | None = Field(
        None,
        description="this host's name for camera leases (default: $PYLAPSE_HOST, else the "
        "machine's host name); `pylapse capture --host` overrides it",
    )
    lease_seconds: float = Field(
        30.0,
        ge=1,
        le=3600,
        description="seconds a camera's lease lasts without a heartbeat: how long a dead host's "
        "unpinned cameras wait before another host takes them over",
    )

    @field_validator("host")
    @classmethod
    def _check_host(cls, value: str | None) -> str | None:
        return None if value is None else check_host_name(value)

    @property
    def heartbeat_seconds(self) -> float:
        """How often a scheduler renews its leases: three tries before one expires."""
        return self.lease_seconds / 3


def host_name(settings: CaptureSettings, override: str | None = None) -> str:
    """This host's name (see the module for the order); raises ValueError for a bad one."""
    env = os.environ.get(HOST_ENV) or None
    for name, where in ((override, "--host"), (env, f"${HOST_ENV}")):
        if name is not None:
            try:
                return check_host_name(name)
            except ValueError as exc:
                raise ValueError(f"{where}: {exc}") from None
    if settings.host is not None:
        return settings.host
    # a machine's own name may hold characters a name in the config may not (spaces on macOS)
    machine = re.sub(r"[^A-Za-z0-9._-]+", "-", socket.gethostname()).strip("-._")
    return machine[:63] or "localhost"
