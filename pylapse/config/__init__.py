"""Configuration: the config file's models, reading and writing it, presets, watching it for edits.

This face re-exports the wing's public names lazily (see pylapse.lazy_face).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pylapse.lazy_face import lazy_face

if TYPE_CHECKING:
    from pylapse.config.base import ConfigConflict, ConfigError
    from pylapse.config.cameras import CameraConfig, Schedule
    from pylapse.config.file import load_config, parse_config, save_config
    from pylapse.config.models import (
        DEFAULT_CONFIG_NAME,
        CollectionConfig,
        Config,
        WebSettings,
    )
    from pylapse.config.presets import ExportPreset

_WHERE = {
    "CameraConfig": "cameras",
    "CollectionConfig": "models",
    "Config": "models",
    "ConfigConflict": "base",
    "ConfigError": "base",
    "DEFAULT_CONFIG_NAME": "models",
    "ExportPreset": "presets",
    "Schedule": "cameras",
    "WebSettings": "models",
    "load_config": "file",
    "parse_config": "file",
    "save_config": "file",
}

__all__ = [
    "DEFAULT_CONFIG_NAME",
    "CameraConfig",
    "CollectionConfig",
    "Config",
    "ConfigConflict",
    "ConfigError",
    "ExportPreset",
    "Schedule",
    "WebSettings",
    "load_config",
    "parse_config",
    "save_config",
]

__getattr__, __dir__ = lazy_face(__name__, _WHERE)
