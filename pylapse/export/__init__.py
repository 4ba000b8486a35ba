"""Export: selected frames copied out with overlays, staged so a failed run harms nothing.

This face re-exports the wing's public names lazily (see pylapse.lazy_face).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pylapse.lazy_face import lazy_face

if TYPE_CHECKING:
    from pylapse.export.options import ExportOptions
    from pylapse.export.run import ExportResult, run_export
    from pylapse.export.staging import ExportError, digits_for, output_name

_WHERE = {
    "ExportError": "staging",
    "ExportOptions": "options",
    "ExportResult": "run",
    "digits_for": "staging",
    "output_name": "staging",
    "run_export": "run",
}

__all__ = [
    "ExportError",
    "ExportOptions",
    "ExportResult",
    "digits_for",
    "output_name",
    "run_export",
]

__getattr__, __dir__ = lazy_face(__name__, _WHERE)
