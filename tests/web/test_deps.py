"""ConfigEditor: concurrent edits of the config never lose one another."""

from __future__ import annotations

import json
import threading

import pytest

from pylapse.config.base import ConfigError
from pylapse.config.cameras import CameraConfig
from web.deps import ConfigEditor


def test_concurrent_edits_are_all_kept(runtime, config_path) -> None:
    editor = ConfigEditor(runtime)
    start = threading.Barrier(4, timeout=10)

    def add(n: int) -> None:
        start.wait()
        editor.apply(
            lambda c: c.cameras.__setitem__(
                f"cam{n}", CameraConfig(name=f"Cam {n}", type="synthetic", output_dir=f"t/{n}")
            )
        )

    threads = [threading.Thread(target=add, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    saved = json.loads(config_path.read_text())["cameras"]
    assert sorted(saved) == ["cam0", "cam1", "cam2", "cam3", "demo"]
    assert sorted(runtime.config.cameras) == sorted(saved)


def test_a_failed_edit_changes_nothing(runtime, config_path) -> None:
    editor = ConfigEditor(runtime)
    before = config_path.read_text()

    def broken(config) -> None:  # type: ignore[no-untyped-def]
        config.cameras["demo"].name = "changed"
        raise ConfigError("no")

    with pytest.raises(ConfigError):
        editor.apply(broken)
    assert config_path.read_text() == before
    assert runtime.config.cameras["demo"].name == "Demo camera"
