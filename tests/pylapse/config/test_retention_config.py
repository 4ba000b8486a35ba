"""config.retention.RetentionConfig: a camera's ``retention`` block."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from pylapse.config.cameras import CameraConfig
from pylapse.config.file import parse_config
from pylapse.config.retention import RetentionConfig


def test_retention_is_off_by_default() -> None:
    camera = CameraConfig(name="c", type="synthetic", output_dir="x")
    assert camera.retention is None
    assert RetentionConfig().enabled is False


def test_a_full_block_loads() -> None:
    config = parse_config({"layout": "flat", "cameras": {"porch": {
        "type": "synthetic", "output_dir": "porch",
        "retention": {"enabled": True, "keep_all_days": 14, "thin_minutes": 10,
                      "delete_after_days": 365, "trash_days": 3,
                      "keep": ["2026-08-12", " 2026-12-24..2026-12-26 "]},
    }}})  # fmt: skip
    retention = config.cameras["porch"].retention
    assert retention is not None
    ages = (retention.keep_all_days, retention.thin_minutes, retention.delete_after_days)
    assert ages == (14, 10, 365)
    assert retention.keep == ["2026-08-12", "2026-12-24..2026-12-26"]
    assert retention.trash_days == 3


@pytest.mark.parametrize(
    ("block", "expected"),
    [
        ({"enabled": True}, "removes nothing: set thin_minutes"),
        ({"delete_after_days": 10, "keep_all_days": 10}, "delete_after_days=10 must be more"),
        ({"thin_minutes": 0}, "thin_minutes"),
        ({"thin_minutes": 2000}, "thin_minutes"),
        ({"keep_all_days": -1}, "keep_all_days"),
        ({"trash_days": -1}, "trash_days"),
        ({"keep": ["2026-02-30"]}, "keep[0]: '2026-02-30' is not a day or a range of days"),
        ({"keep": ["2026-01-01", "Jan 5"]}, "keep[1]: 'Jan 5' is not a day"),
        ({"keep": ["2026-01-05..2026-01-01"]}, "ends before it starts"),
    ],
)
def test_bad_blocks_are_refused_naming_the_field(block: dict[str, object], expected: str) -> None:
    with pytest.raises(ValidationError) as caught:
        RetentionConfig.model_validate(block)
    assert expected in str(caught.value)


def test_a_bad_block_sets_the_camera_aside_with_the_field_path() -> None:
    config = parse_config({"layout": "flat", "cameras": {"porch": {
        "type": "synthetic", "output_dir": "porch", "retention": {"keep": ["soon"]},
    }}})  # fmt: skip
    assert "porch" not in config.cameras
    (problem,) = config.invalid_cameras["porch"].problems
    assert problem.startswith("cameras.porch.retention.keep")


def test_the_example_configs_retention_block_works_once_renamed() -> None:
    import json
    from pathlib import Path

    example = Path(__file__).resolve().parents[3] / "capture_config.example.json"
    raw = json.loads(example.read_text(encoding="utf-8"))
    camera = raw["cameras"]["demo"]
    assert "retention" not in camera  # off by default, also in the example
    camera["retention"] = camera.pop("_retention")
    retention = parse_config(raw).cameras["demo"].retention
    assert retention is not None and retention.enabled and retention.thin_minutes == 10
