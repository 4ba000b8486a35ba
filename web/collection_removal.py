"""The pages of removing a collection: what removing it does (its presets, what stands in the
way, with ``delete_files`` the number and size of its frame files), the same page again with the
reason a removal was refused, and the line the collections list shows after one.

What a removal does and refuses is in :mod:`web.routes._removal` and :mod:`pylapse.tasks.removal`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from web.collection_summary import summary
from web.routes import _media as m
from web.routes import _removal

if TYPE_CHECKING:
    from fastapi import Request
    from fastapi.templating import Jinja2Templates

    from pylapse.collection import Collection
    from pylapse.runtime import Runtime

__all__ = ["removed_message", "render_removal_page"]


def render_removal_page(
    request: Request, runtime: Runtime, templates: Jinja2Templates, collection_id: str,
    coll: Collection, delete_files: bool, *, plan: _removal.RemovalPlan | None = None,
    error: str = "",
    values: dict[str, Any] | None = None, status_code: int = 200,
):  # fmt: skip
    plan = plan or _removal.plan(runtime, collection_id, coll, delete_files)
    context = {
        "active": "collections",
        "page_title": f"Remove {coll.name}",
        "c": summary(runtime, collection_id, coll),
        "presets": plan.presets,
        "blockers": plan.blockers,
        "preview": plan.preview,
        "error": error,
        "values": values or {},
    }
    return m.render(templates, request, "collection_remove.html", context, status_code=status_code)


def removed_message(name: str, files: str) -> str:
    """What the collections list says after collection ``name`` was removed, by what became of
    its frame files (``files``: ``deleting``, ``not-deleted`` or ``kept``)."""
    if files == "deleting":
        return f"Collection {name} removed; its frame files are being deleted (see below)."
    if files == "not-deleted":  # the deletion job could not be queued
        return (
            f"Collection {name} removed from pyLapse, but its frame files could not be deleted "
            "now (no job could be started); they stay in its folder."
        )
    return (
        f"Collection {name} removed from pyLapse; its frame files stay in its folder (declare "
        "a collection over the folder again to see them)."
    )
