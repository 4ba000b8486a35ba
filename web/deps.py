"""Typed dependencies: routes declare what they need (``runtime: RuntimeDep``), never reach into
untyped app attributes themselves."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Annotated

from fastapi import Depends, Request
from fastapi.templating import Jinja2Templates

from pylapse.config import Config
from pylapse.jobs import JobRunner
from pylapse.runtime import Runtime


class ConfigEditor:
    """Serialises read-modify-write edits of the config: two tabs saving different cameras at
    the same moment must not lose one of the edits."""

    def __init__(self, runtime: Runtime) -> None:
        self._runtime = runtime
        self._lock = threading.Lock()

    def apply(self, mutate: Callable[[Config], None]) -> Config:
        """Copy the current config, let ``mutate`` change the copy, save and switch to it.

        Exceptions from ``mutate`` or from saving (``ConfigError``, ``OSError``) leave the
        running config and the file as they were."""
        with self._lock:
            config = self._runtime.config.model_copy(deep=True)
            mutate(config)
            self._runtime.apply_config(config)
            return config

    def replace(self, config: Config) -> None:
        with self._lock:
            self._runtime.apply_config(config)


def get_runtime(request: Request) -> Runtime:
    return request.app.state.runtime


def get_templates(request: Request) -> Jinja2Templates:
    return request.app.state.templates


def get_config(request: Request) -> Config:
    return get_runtime(request).config


def get_config_editor(request: Request) -> ConfigEditor:
    return request.app.state.config_editor


def get_jobs(request: Request) -> JobRunner:
    return get_runtime(request).jobs


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]
TemplatesDep = Annotated[Jinja2Templates, Depends(get_templates)]
ConfigDep = Annotated[Config, Depends(get_config)]
JobsDep = Annotated[JobRunner, Depends(get_jobs)]
ConfigEditorDep = Annotated[ConfigEditor, Depends(get_config_editor)]
