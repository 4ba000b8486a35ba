"""A configured collection, or a camera's implicit one, as ``Collection``'s arguments and its
export presets (what :meth:`Collection.from_config` builds from)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pylapse.selection.targets import SelectionError

if TYPE_CHECKING:
    from pylapse.config.models import Config
    from pylapse.config.presets import ExportPreset

__all__ = ["configured_arguments", "configured_presets"]


def configured_arguments(config: Config, collection_id: str) -> dict[str, Any]:
    """The keyword arguments of ``Collection`` (all but ``index``) for ``collection_id``: a
    configured collection, else a camera (its implicit collection)."""
    from pylapse.index.scan import DEFAULT_EXTENSIONS

    export_root = config.root_paths[0] / "exports" if config.root_paths else None
    export_dir = export_root / collection_id if export_root else None
    if collection_id in config.collections:
        c = config.collections[collection_id]
        latitude, longitude = _place(c, config.cameras.get(c.camera or ""))
        return {
            "name": c.name,
            "export_dir": export_dir,
            "collection_dir": config.resolve(c.path),
            "timezone": c.timezone,
            "key": c.camera or collection_id,
            "pattern": c.filename_pattern,
            "date_source": c.date_source,
            "extensions": c.extensions,
            "roots": config.root_paths,
            "zones": c.zones,
            "ignore": c.ignore,
            "latitude": latitude,
            "longitude": longitude,
        }
    if collection_id in config.cameras:
        cam = config.cameras[collection_id]
        return {
            "name": cam.name,
            "export_dir": export_dir,
            "collection_dir": config.resolve(cam.output_dir),
            "timezone": cam.timezone,
            "extensions": DEFAULT_EXTENSIONS,
            "key": collection_id,
            "roots": config.root_paths,
            "ignore": cam.ignore,
            "latitude": cam.latitude,
            "longitude": cam.longitude,
        }
    known = sorted({*config.collections, *config.cameras})
    raise SelectionError(
        f"no collection or camera {collection_id!r}; known: {', '.join(known) or 'none'}"
    )


def configured_presets(config: Config, collection_id: str) -> dict[str, ExportPreset]:
    """The config's export presets for ``collection_id``, resolved, by name."""
    return {
        preset_name: config.resolved_preset(preset_name, preset)
        for preset_name, preset in config.exports.items()
        if preset.collection == collection_id
    }


def _place(collection: Any, camera: Any) -> tuple[float | None, float | None]:
    """A configured collection's latitude/longitude: its own, else its camera's."""
    own = (getattr(collection, "latitude", None), getattr(collection, "longitude", None))
    if None not in own or camera is None:
        return own
    return camera.latitude, camera.longitude
