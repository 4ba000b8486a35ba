"""The camera form's sun window per schedule: saved, previewed inside the window, checked."""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

from test_cameras import form_fields

from pylapse.selection.sun import NIGHT, SunGap, sun_window


def _in_night(t, lat, lon, zone) -> bool:
    for d in (t.date() - timedelta(days=1), t.date()):
        w = sun_window(d, lat, lon, zone, *NIGHT)
        if not isinstance(w, SunGap) and w[0] <= t < w[1]:
            return True
    return False


def test_a_schedule_saved_with_a_sun_window_fires_only_inside_it(client, post, runtime) -> None:
    fields = form_fields(client.get("/cameras/demo").text)
    assert "s-0-sun_window" in fields
    fields["s-0-cron"] = "*/30 * * * *"  # the demo's is by day only: never inside a night
    fields["s-0-sun_window"] = "night"
    assert post("/cameras/demo", data=fields).status_code == 303
    camera = runtime.config.cameras["demo"]
    assert camera.schedules[0].sun_window == "night"
    rows = client.get("/cameras/demo").context["rows"]
    assert rows[0].sun_window == "night" and len(rows[0].fires) == 5
    zone = camera.zone()
    assert all(_in_night(f, camera.latitude, camera.longitude, zone) for f in rows[0].fires)
    fields["s-0-cron"] = "5 8,10,12 * * 1-5"  # by day inside a night window: never fires
    assert post("/cameras/demo", data=fields).status_code == 303
    assert client.get("/cameras/demo").context["rows"][0].fires == []
    fields["s-0-sun_window"] = "sunset"
    bad = post("/cameras/demo", data=fields)
    assert bad.status_code == 422 and "not a window" in bad.context["errors"]["s-0-sun_window"]


def test_the_preview_uses_the_typed_place(client) -> None:
    params = {"index": 2, "s-2-type": "cron", "s-2-cron": "*/10 * * * *",
              "s-2-sun_window": "night", "timezone": "Europe/Oslo"}  # fmt: skip
    response = client.get(
        "/cameras/schedule-preview", params={**params, "latitude": "59.9", "longitude": "10.7"}
    )
    fires = response.context["row"].fires
    zone = ZoneInfo("Europe/Oslo")
    assert len(fires) == 5 and all(_in_night(f, 59.9, 10.7, zone) for f in fires)
    missing = client.get("/cameras/schedule-preview", params=params)
    assert "latitude and longitude" in missing.context["row"].error
