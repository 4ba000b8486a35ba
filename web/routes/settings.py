"""Settings: global options, the ffmpeg in use and its encoders, storage roots, a folder browser
confined to the storage roots, and reloading the config from disk."""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates
from pydantic import BaseModel, ValidationError
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData

from pylapse import storage
from pylapse.config.base import ConfigError
from pylapse.config.models import Config
from web.deps import ConfigEditorDep, RuntimeDep, TemplatesDep
from web.messages import in_words
from web.routes._media import is_htmx

if TYPE_CHECKING:
    from pylapse.notify.deliverylog import Delivery
    from pylapse.runtime import Runtime

log = logging.getLogger(__name__)
router = APIRouter(tags=["settings"], include_in_schema=False)

MAX_ENTRIES = 500  # a folder browser shows this many subfolders at most
DELIVERIES_SHOWN = 20  # the newest rows of the notification delivery log on the page
# Encoders worth showing (the full list runs to hundreds).
VIDEO_ENCODERS = ("libx264", "libx265", "libvpx-vp9", "libaom-av1", "libsvtav1", "mjpeg",
                  "h264_nvenc", "hevc_nvenc", "h264_vaapi", "h264_qsv", "h264_v4l2m2m",
                  "prores_ks", "gif")  # fmt: skip


def ffmpeg_info(config: Config) -> dict[str, Any]:
    """Which ffmpeg renders use, its version and the interesting encoders it has."""
    try:
        from pylapse.ffmpeg import FfmpegError, FfmpegNotFound, configured_ffmpeg, find_ffmpeg

        info = find_ffmpeg(configured_ffmpeg(config))
        encoders = info.encoders
        return {
            "path": str(info.path),
            "source": info.source,
            "version": info.version,
            "encoders": [e for e in VIDEO_ENCODERS if e in encoders],
            "encoder_count": len(encoders),
            "error": "",
        }
    except ImportError:
        return {"error": "the ffmpeg module is not available"}
    except (FfmpegNotFound, FfmpegError, OSError) as exc:
        return {"error": str(exc)}


def _values(config: Config) -> dict[str, Any]:
    return {
        "storage_roots": "\n".join(config.storage_roots),
        "ffmpeg_path": config.ffmpeg_path or "",
        "max_retries": config.max_retries,
        "retry_delay": config.retry_delay,
        "min_free_mb": config.min_free_mb,
        "allowed_hosts": "\n".join(config.web.allowed_hosts),
        "host": config.web.host,
        "port": config.web.port,
    }


def _serving(request: Request) -> dict[str, Any] | None:
    """The address and port this dashboard answers on now (the server's own socket, which an
    edited ``web.port`` does not change until the next start); None when the server does not
    say."""
    server = request.scope.get("server")
    if not server or server[1] is None:
        return None
    host, port = server
    return {"host": host, "port": int(port)}


def _page(
    request: Request, runtime: Runtime, templates: Jinja2Templates, **extra: Any
) -> HTMLResponse:
    config = runtime.config
    context = {
        "active": "settings",
        "page_title": "Settings",
        "values": _values(config),
        "errors": {},
        "ffmpeg": ffmpeg_info(config),
        "roots": [(r, r.is_dir()) for r in config.root_paths],
        "data_path": config.data_path,
        "config_path": runtime.config_path,
        "config_warnings": config.warnings,
        "password_set": bool(config.web.password_hash),
        "browser": browse_context(config.root_paths, ""),
        "flash": "",
        "flash_kind": "ok",
        "serving": _serving(request),
        "notify": notifications_context(runtime),
    }
    context.update(extra)
    return templates.TemplateResponse(
        request, "settings.html", context, status_code=422 if context["errors"] else 200
    )


@router.get("/settings", response_class=HTMLResponse)
def settings(request: Request, runtime: RuntimeDep, templates: TemplatesDep):
    return _page(request, runtime, templates)


def _lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


def _update(config: Config, form: FormData) -> dict[str, str]:
    """Set the settings the form sent on ``config``; returns errors by input name."""

    def text(name: str) -> str:
        value = form.get(name)
        return value.strip() if isinstance(value, str) else ""

    errors: dict[str, str] = {}
    updates: list[tuple[BaseModel, str, object]] = [
        (config, "storage_roots", _lines(text("storage_roots"))),
        (config, "ffmpeg_path", text("ffmpeg_path") or None),
        (config, "max_retries", text("max_retries")),
        (config, "retry_delay", text("retry_delay")),
        (config, "min_free_mb", text("min_free_mb")),
        (config.web, "allowed_hosts", _lines(text("allowed_hosts"))),
        (config.web, "host", text("host")),
        (config.web, "port", text("port")),
    ]
    for target, field, value in updates:
        if field not in form or getattr(target, field) == value:
            continue  # an input the form did not send leaves the setting alone
        if value == "" and field in ("max_retries", "retry_delay", "min_free_mb", "port"):
            errors[field] = "a number is needed"
            continue
        try:
            setattr(target, field, value)  # validate_assignment: pydantic checks each value
        except ValidationError as exc:
            label = field.replace("_", " ")
            errors[field] = "; ".join(in_words(e, label) for e in exc.errors())
    if not config.storage_roots:
        errors["storage_roots"] = "at least one storage root is needed"
    return errors


class _Invalid(Exception):
    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("invalid settings")
        self.errors = errors


@router.post("/settings", response_class=HTMLResponse)
async def save_settings(
    request: Request, runtime: RuntimeDep, templates: TemplatesDep, editor: ConfigEditorDep
):
    form = await request.form()

    def mutate(config: Config) -> None:
        errors = _update(config, form)
        if errors:
            raise _Invalid(errors)

    errors: dict[str, str] = {}
    try:
        await run_in_threadpool(editor.apply, mutate)
    except _Invalid as exc:
        errors = exc.errors
    except (ConfigError, OSError) as exc:
        errors["form"] = str(exc)
    else:
        return _page(request, runtime, templates, flash="Settings saved.")
    values = {k: str(form.get(k) or "").strip() for k in _values(runtime.config)}
    return _page(
        request, runtime, templates, values=values, errors=errors,
        flash="Not saved: see the marked fields.", flash_kind="error",
    )  # fmt: skip


@router.post("/settings/reload", response_class=HTMLResponse)
async def reload_config(request: Request, runtime: RuntimeDep, templates: TemplatesDep):
    """Re-read the config file now (hand edits are also picked up by themselves): a valid file
    is applied (scheduler jobs rebuilt), an invalid one is reported and nothing is written."""
    path = runtime.config_path
    if path is None:
        return _page(
            request, runtime, templates, flash="This dashboard has no config file to reload.",
            flash_kind="error",
        )  # fmt: skip
    changed = await run_in_threadpool(runtime.reload_config)
    notice = runtime.config_notice
    if notice is not None and notice.blocks_saves:
        return _page(request, runtime, templates, flash=f"Not reloaded: {notice.message}",
                     flash_kind="error")  # fmt: skip
    if not changed and (notice is None or notice.status != "reloaded"):
        return _page(request, runtime, templates, flash=f"{path} is unchanged; nothing to reload.")
    # a hand edit is usually picked up before the button is pressed (every read checks the file)
    when = f" (changed on disk at {notice.at:%H:%M})" if notice is not None else ""
    return _page(request, runtime, templates,
                 flash=f"Reloaded {path}{when}; the scheduler follows it.")  # fmt: skip


# -- notifications -------------------------------------------------------------------------------


def notifications_context(runtime: Runtime, result: Delivery | None = None) -> dict[str, Any]:
    """The rules with their targets masked, the newest deliveries, and a test's outcome."""
    notifier = runtime.notifier
    declared = runtime.config.notifications
    rules = [
        {
            "id": rule.id,
            "target": rule.masked_url,
            "kind": rule.kind.value,
            "events": declared[rule.id].events if rule.id in declared else sorted(rule.events),
            "cooldown": rule.cooldown,
            "enabled": rule.enabled,
        }
        for rule in notifier.rules.values()
    ]
    deliveries = notifier.log.recent(DELIVERIES_SHOWN) if notifier.log is not None else []
    return {"rules": rules, "deliveries": deliveries, "result": result}


@router.post("/settings/notifications/{rule_id}/test", response_class=HTMLResponse)
async def test_notification(
    request: Request, rule_id: str, runtime: RuntimeDep, templates: TemplatesDep
):
    """Send rule ``rule_id`` a test message now and show how it went (and the delivery log)."""
    if rule_id not in runtime.notifier.rules:
        raise HTTPException(404, f"no notification rule {rule_id!r}")
    result = await run_in_threadpool(runtime.notifier.send_test, rule_id)
    notify = await run_in_threadpool(notifications_context, runtime, result)
    if is_htmx(request):
        return templates.TemplateResponse(
            request, "partials/_notifications.html", {"notify": notify}
        )
    return _page(request, runtime, templates, notify=notify)


# -- folder browser ------------------------------------------------------------------------------


def browse_context(roots: list[Path], path: str) -> dict[str, Any]:
    """Subfolders of ``path``, which must resolve inside a storage root (symlinks included)."""
    if not path:
        entries = [{"name": str(r), "path": str(r.resolve())} for r in roots if r.is_dir()]
        return {"browse_path": "", "browse_parent": None, "browse_entries": entries,
                "browse_error": "" if entries else "no storage root exists yet",
                "browse_truncated": False}  # fmt: skip
    try:
        folder = storage.confine(path, roots)
    except storage.PathNotAllowed as exc:
        return {"browse_path": "", "browse_parent": None, "browse_entries": [],
                "browse_error": str(exc), "browse_truncated": False}  # fmt: skip
    resolved_roots = [r.resolve() for r in roots]
    entries, truncated = [], False
    try:
        with os.scandir(folder) as it:
            names = sorted((e.name for e in it if e.is_dir(follow_symlinks=True)), key=str.lower)
    except OSError as exc:
        return {"browse_path": str(folder), "browse_parent": None, "browse_entries": [],
                "browse_error": f"cannot list {folder}: {exc.strerror}",
                "browse_truncated": False}  # fmt: skip
    for name in names:
        if len(entries) >= MAX_ENTRIES:
            truncated = True
            break
        child = (folder / name).resolve()
        # a symlink leading out of the roots is not offered (and would be refused anyway)
        if any(child == r or child.is_relative_to(r) for r in resolved_roots):
            entries.append({"name": name, "path": str(child)})
    parent = None if folder in resolved_roots else str(folder.parent)
    return {"browse_path": str(folder), "browse_parent": parent, "browse_entries": entries,
            "browse_error": "", "browse_truncated": truncated}  # fmt: skip


@router.get("/settings/browse", response_class=HTMLResponse)
def browse(
    request: Request,
    runtime: RuntimeDep,
    templates: TemplatesDep,
    path: Annotated[str, Query(max_length=4096)] = "",
):
    context = browse_context(runtime.config.root_paths, path)
    status = 403 if context["browse_error"] and path else 200
    return templates.TemplateResponse(
        request, "partials/_browser.html", {"browser": context}, status_code=status
    )
