"""Typed dependencies: routes declare what they need (``runtime: RuntimeDep``), never reach into
untyped app attributes themselves."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Annotated

from fastapi import Depends, HTTPException, Request
from fastapi.templating import Jinja2Templates

from pylapse.config.models import Config
from pylapse.jobs.runner import JobRunner
from pylapse.runtime import Runtime

CONFIG_TOKEN_FIELD = "config_token"  # hidden input of every form that changes the config
CONFIG_TOKEN_HEADER = "X-Config-Token"  # sent by htmx from hx-headers on <body>


class ConfigEditor:
    """Serialises read-modify-write edits of the config: two tabs saving different cameras at
    the same moment must not lose one of the edits, and a form loaded before a hand edit of the
    file must not undo it (the save is a compare-and-swap on the page's config token)."""

    def __init__(self, runtime: Runtime, expect: str | None = None) -> None:
        self._runtime = runtime
        self._lock = threading.Lock()
        self.expect = expect

    def bound(self, expect: str | None) -> ConfigEditor:
        """This editor (sharing its lock) for one request that read the config at ``expect``."""
        view = ConfigEditor(self._runtime, expect)
        view._lock = self._lock
        return view

    def apply(self, mutate: Callable[[Config], None]) -> Config:
        """Copy the current config, let ``mutate`` change the copy, save and switch to it.

        Exceptions from ``mutate`` or from saving (``ConfigError``, ``ConfigConflict``,
        ``OSError``) leave the running config and the file as they were."""
        with self._lock:
            self._runtime.check_config_token(self.expect)
            current, token = self._runtime.config_snapshot()
            config = current.model_copy(deep=True)
            mutate(config)
            # without a page token, the generation just read: a hand edit landing between the
            # read and the write is refused, never overwritten
            self._runtime.apply_config(config, expect=self.expect or token)
            return config


def get_runtime(request: Request) -> Runtime:
    return request.app.state.runtime


def get_templates(request: Request) -> Jinja2Templates:
    return request.app.state.templates


def get_config(request: Request) -> Config:
    return get_runtime(request).config


async def get_config_editor(request: Request) -> ConfigEditor:
    """The app's editor, bound to the config token the request's page was loaded with."""
    token = request.headers.get(CONFIG_TOKEN_HEADER)
    content_type = request.headers.get("content-type", "")
    if content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
        value = (await request.form()).get(CONFIG_TOKEN_FIELD)
        if isinstance(value, str) and value:
            token = value  # the form's own token: the page that showed these values
    # a page re-rendered after a refused save keeps the stale token (see web.templating), so
    # pressing Save again is refused again until the page is reloaded
    request.state.config_token_sent = token or None
    return request.app.state.config_editor.bound(token or None)


def require_jobs(runtime: Runtime) -> JobRunner:
    """The runtime's job runner; 404 when it runs none (a runtime built with ``jobs=False``)."""
    if runtime.jobs is None:
        raise HTTPException(404, "jobs are not available")
    return runtime.jobs


def get_jobs(request: Request) -> JobRunner:
    return require_jobs(get_runtime(request))


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]
TemplatesDep = Annotated[Jinja2Templates, Depends(get_templates)]
ConfigDep = Annotated[Config, Depends(get_config)]
JobsDep = Annotated[JobRunner, Depends(get_jobs)]
ConfigEditorDep = Annotated[ConfigEditor, Depends(get_config_editor)]
