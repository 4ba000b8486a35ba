"""Camera sources: one module per kind, chosen by the camera config's ``type``."""

from pylapse.sources.base import FrameSource, GrabError, SourceUnavailable, create_source

__all__ = ["FrameSource", "GrabError", "SourceUnavailable", "create_source"]
