"""docs/configuration.md documents every field of every config model (datasette's pattern)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from pydantic import BaseModel

from pylapse.config import models as config
from pylapse.config.capture import CaptureSettings
from pylapse.config.notifications import NotificationConfig
from pylapse.config.retention import RetentionConfig

DOC = Path(__file__).resolve().parents[1] / "docs" / "configuration.md"
MODELS = [
    config.Config,
    config.CameraConfig,
    config.Schedule,
    config.CollectionConfig,
    config.ExportPreset,
    config.WebSettings,
    NotificationConfig,
    RetentionConfig,
    config.JobsConfig,
    config.RenderScheduleConfig,
    CaptureSettings,
]


def _section(model: type[BaseModel]) -> str:
    """The text under the heading that names ``model`` in backticks, up to the next heading."""
    text = DOC.read_text(encoding="utf-8")
    match = re.search(
        rf"^## [^\n]*\(`{model.__name__}`\)[^\n]*\n(?P<body>.*?)(?=^## |\Z)",
        text,
        flags=re.MULTILINE | re.DOTALL,
    )
    assert match, f"{DOC.name} has no '## ... (`{model.__name__}`)' section"
    return match["body"]


def _documented(body: str) -> set[str]:
    """Field names in the first column of the section's table rows."""
    return set(re.findall(r"^\| `([a-z_0-9]+)` \|", body, flags=re.MULTILINE))


@pytest.mark.parametrize("model", MODELS, ids=[m.__name__ for m in MODELS])
def test_every_field_is_documented(model: type[BaseModel]) -> None:
    missing = sorted(set(model.model_fields) - _documented(_section(model)))
    assert missing == [], f"add a row for each to the {model.__name__} table in {DOC}"


@pytest.mark.parametrize("model", MODELS, ids=[m.__name__ for m in MODELS])
def test_no_documented_field_is_stale(model: type[BaseModel]) -> None:
    stale = sorted(_documented(_section(model)) - set(model.model_fields))
    assert stale == [], f"{DOC} documents fields that {model.__name__} no longer has"


def test_every_documented_row_has_a_default_and_a_meaning() -> None:
    text = DOC.read_text(encoding="utf-8")
    for row in re.findall(r"^\| `[a-z_0-9]+` \|.*$", text, flags=re.MULTILINE):
        cells = [c.strip() for c in row.strip("|").split("|")]
        assert len(cells) >= 2 and all(cells), f"empty cell in: {row}"


def test_the_checker_notices_a_missing_field() -> None:
    class Probe(BaseModel):
        host: str = "x"
        not_in_the_docs: int = 0

    body = _section(config.WebSettings)
    assert set(Probe.model_fields) - _documented(body) == {"not_in_the_docs"}
