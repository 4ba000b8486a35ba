"""The export form's sun fields: saved, shown again, checked, and previewed."""

from __future__ import annotations

import json

from test_exports import BASE_FORM
from web_support import BOTH_BACKENDS

pytestmark = BOTH_BACKENDS  # every test here reads the index


def test_sun_fields_round_trip_and_are_checked(client, post, config_path) -> None:
    fields = {"sun": "Sunset - 30m, noon", "sun_window": "night"}
    response = post("/exports/new", {**BASE_FORM, "preset_id": "dusk", **fields})
    assert response.status_code == 303
    saved = json.loads(config_path.read_text())["exports"]["dusk"]
    assert saved["sun"] == ["sunset-30m", "noon"] and saved["sun_window"] == "night"
    values = client.get("/exports/dusk").context["values"]
    assert values["sun"] == "sunset-30m, noon" and values["sun_window"] == "night"
    bad = post("/exports/new", {**BASE_FORM, "preset_id": "moon", "sun": "moonrise"})
    assert bad.status_code == 422 and "not a sun event" in bad.context["errors"]["sun"]
    bad = post("/exports/new", {**BASE_FORM, "preset_id": "w", "sun_window": "sunset"})
    assert bad.status_code == 422 and bad.context["errors"].get("sun_window")


def test_preview_of_a_sun_selection(client) -> None:
    # the demo camera is at 52.52 N: solar noon every day, within the tolerance
    response = client.get("/exports/preview", params={**BASE_FORM, "sun": "noon"})
    assert response.context["error"] == ""
    assert response.context["summary"]["kind"] == "sun"
    bad = client.get("/exports/preview", params={**BASE_FORM, "sun": "noon", "hour": "12"})
    assert "give no cron fields" in bad.context["error"]
