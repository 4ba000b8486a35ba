"""Typed dependencies: routes declare what they need (``runtime: RuntimeDep``), never reach into
untyped app attributes themselves."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.templating import Jinja2Templates

from pylapse.config import Config
from pylapse.jobs import JobRunner
from pylapse.runtime import Runtime


def get_runtime(request: Request) -> Runtime:
    return request.app.state.runtime


def get_templates(request: Request) -> Jinja2Templates:
    return request.app.state.templates


def get_config(request: Request) -> Config:
    return get_runtime(request).config


def get_jobs(request: Request) -> JobRunner:
    return get_runtime(request).jobs


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]
TemplatesDep = Annotated[Jinja2Templates, Depends(get_templates)]
ConfigDep = Annotated[Config, Depends(get_config)]
JobsDep = Annotated[JobRunner, Depends(get_jobs)]
