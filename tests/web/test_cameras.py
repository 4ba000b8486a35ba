"""Cameras pages: list, add, edit (exact cron round-trip), remove, live helpers."""

from __future__ import annotations

import json
import re
import time
from datetime import datetime
from html.parser import HTMLParser

import pytest
from web_support import DEMO_SCHEDULE

from pylapse.config.cameras import Schedule
from web import camera_form as cf


class _Inputs(HTMLParser):
    """The form's successful controls, as a browser would submit them."""

    def __init__(self) -> None:
        super().__init__()
        self.fields: list[tuple[str, str]] = []
        self._select: str | None = None
        self._textarea: str | None = None
        self._options: list[tuple[str, bool]] = []

    def handle_starttag(self, tag, attrs):  # type: ignore[no-untyped-def]
        a = dict(attrs)
        if tag == "input" and a.get("name"):
            kind = a.get("type", "text")
            if kind in ("checkbox", "radio"):
                if "checked" in a:
                    self.fields.append((a["name"], a.get("value", "on")))
            elif kind not in ("submit", "button"):
                self.fields.append((a["name"], a.get("value") or ""))
        elif tag == "select":
            self._select, self._options = a.get("name"), []
        elif tag == "option" and self._select is not None:
            self._options.append((a.get("value"), "selected" in a))
        elif tag == "textarea":
            self._textarea = a.get("name")
            self.fields.append((self._textarea or "", ""))

    def handle_data(self, data):  # type: ignore[no-untyped-def]
        if self._select is not None and self._options and self._options[-1][0] is None:
            self._options[-1] = (data.strip(), self._options[-1][1])
        if self._textarea is not None:
            name, value = self.fields[-1]
            self.fields[-1] = (name, value + data)

    def handle_endtag(self, tag):  # type: ignore[no-untyped-def]
        if tag == "select" and self._select:
            chosen = [v for v, sel in self._options if sel] or [self._options[0][0]]
            self.fields.append((self._select, chosen[0] or ""))
            self._select = None
        elif tag == "textarea":
            self._textarea = None


def form_fields(html: str, form_id: str = "camera-form") -> dict[str, str]:
    start = html.index(f'id="{form_id}"')
    end = html.index("</form>", start)
    parser = _Inputs()
    parser.feed(html[html.rindex("<form", 0, start) : end])
    return dict(parser.fields)


def test_camera_list(client) -> None:
    response = client.get("/cameras")
    assert response.template.name == "cameras.html"
    [item] = response.context["cameras"]
    assert item["id"] == "demo" and item["config"].name == "Demo camera"


def test_edit_form_shows_the_cron_line_and_the_next_five_fires(client) -> None:
    response = client.get("/cameras/demo")
    assert response.template.name == "camera_form.html"
    rows = response.context["rows"]
    assert [r.id for r in rows] == ["weekdays", "fast"]
    assert rows[0].cron == DEMO_SCHEDULE
    assert len(rows[0].fires) == 5
    for fire in rows[0].fires:
        assert fire.tzinfo is not None and str(fire.tzinfo) == "Europe/Berlin"
        assert (fire.hour, fire.minute) in ((8, 5), (10, 5), (12, 5))
    assert rows[1].type == "interval" and rows[1].interval_amount == "2"
    assert rows[1].enabled is False
    assert response.context["values"]["timezone"] == "Europe/Berlin"
    assert "Asia/Tokyo" in response.context["zones"]
    assert 'list="zone-list"' in response.text


def test_saving_an_unchanged_form_keeps_the_config_exactly(client, post, config_path) -> None:
    before = json.loads(config_path.read_text())
    fields = form_fields(client.get("/cameras/demo").text)
    response = post("/cameras/demo", data=fields)
    assert response.status_code == 303, response.text
    after = json.loads(config_path.read_text())
    assert after["cameras"]["demo"] == before["cameras"]["demo"]
    assert after["_comment"] == before["_comment"]  # comments survive dashboard saves


@pytest.mark.parametrize(
    "line",
    [
        DEMO_SCHEDULE,
        "*/15 6-20 * * *",
        "0 */2 1,15 * mon-fri",
        "30 0 12 * * *",  # with seconds
        "0 0 12 1 * * 2027-2030",  # with a year
        "* * * * *",
        "0 12 last * *",
        "5 4 * 1-3,6 sun",
    ],
)
def test_any_cron_line_round_trips_exactly(client, post, runtime, line: str) -> None:
    fields = form_fields(client.get("/cameras/demo").text)
    fields["s-0-cron"] = line
    assert post("/cameras/demo", data=fields).status_code == 303
    page = client.get("/cameras/demo")
    assert page.context["rows"][0].cron == line
    assert f'value="{line}"' in page.text
    # and it means what it says: every field typed is stored verbatim
    schedule = runtime.config.cameras["demo"].schedules[0]
    assert cf.cron_line(schedule) == line


def test_a_hand_written_schedule_is_never_rewritten(tmp_path) -> None:
    odd = Schedule(id="odd", hour=8)  # minute and second implied 0
    row = cf.row_from_schedule(0, odd)
    assert row.cron == "0 8 * * *"
    again = cf.schedule_from_row(row, odd)
    assert again.model_dump(exclude_unset=True) == odd.model_dump(exclude_unset=True)


def test_an_invalid_cron_line_is_refused_with_the_reason(client, post, config_path) -> None:
    before = config_path.read_text()
    fields = form_fields(client.get("/cameras/demo").text)
    fields["s-0-cron"] = "61 * * * *"
    response = post("/cameras/demo", data=fields)
    assert response.status_code == 422
    assert "s-0-cron" in response.context["errors"]
    assert response.context["rows"][0].error
    fields["s-0-cron"] = "1 2 3"
    response = post("/cameras/demo", data=fields)
    assert "5 fields" in response.context["errors"]["s-0-cron"]
    assert config_path.read_text() == before


def test_interval_editor_and_per_schedule_enable(client, post, runtime) -> None:
    fields = form_fields(client.get("/cameras/demo").text)
    fields.update(
        {
            "s-1-interval_amount": "15",
            "s-1-interval_unit": "minutes",
            "s-1-enabled": "on",
            "s-1-start_date": "2026-01-01T06:00:00",
        }
    )
    del fields["s-0-enabled"]
    assert post("/cameras/demo", data=fields).status_code == 303
    weekdays, fast = runtime.config.cameras["demo"].schedules
    assert weekdays.enabled is False and fast.enabled is True
    assert fast.interval_amount == 15 and fast.interval_unit == "minutes"
    assert fast.start_date == datetime(2026, 1, 1, 6, 0)
    fires = client.get("/cameras/demo").context["rows"][1].fires
    assert [f.minute % 15 for f in fires] == [0] * 5


def test_add_and_remove_schedules(client, post, runtime) -> None:
    page = client.get("/cameras/demo")
    blank = page.context["blank_row"].index
    fields = form_fields(page.text)
    fields.update(
        {
            f"s-{blank}-id": "noon",
            f"s-{blank}-cron": "0 12 * * *",
            f"s-{blank}-enabled": "on",
            "s-1-remove": "on",
        }
    )
    assert post("/cameras/demo", data=fields).status_code == 303
    assert [s.id for s in runtime.config.cameras["demo"].schedules] == ["weekdays", "noon"]
    row = client.get("/cameras/schedule-row", params={"index": 7})
    assert row.template.name == "partials/_schedule_row.html"
    assert 'name="s-7-cron"' in row.text and 'id="schedule-7"' in row.text


def test_schedule_preview_lists_five_fires_in_the_zone(client) -> None:
    response = client.get(
        "/cameras/schedule-preview",
        params={"index": 3, "s-3-type": "cron", "s-3-cron": "0 7 * * *", "timezone": "Asia/Tokyo"},
    )
    assert response.template.name == "partials/_schedule_fires.html"
    fires = response.context["row"].fires
    assert len(fires) == 5 and all(
        f.hour == 7 and f.utcoffset().total_seconds() == 9 * 3600 for f in fires
    )
    assert 'id="fires-3"' in response.text
    bad = client.get("/cameras/schedule-preview", params={"index": 3, "s-3-cron": "0 25 * * *"})
    assert bad.context["row"].error and "fires-3" in bad.text


def test_example_name_follows_the_format(client) -> None:
    response = client.get(
        "/cameras/example-name",
        params={
            "filename_format": "{prefix}{timestamp:%Y%m%d-%H%M%S}.{ext}",
            "prefix": "porch-",
            "ext": "png",
            "timezone": "UTC",
        },
    )
    assert response.template.name == "partials/_example_name.html"
    name = response.context["example"]["name"]
    assert name.startswith("porch-") and name.endswith(".png") and len(name) == len("porch-") + 19
    bad = client.get("/cameras/example-name", params={"filename_format": "{nope}"})
    assert bad.context["example"]["error"]


def test_add_a_camera(client, post, runtime, config_path) -> None:
    form = client.get("/cameras/new")
    assert form.template.name == "camera_form.html" and form.context["camera_id"] is None
    response = post(
        "/cameras/new",
        data={
            "name": "Back Yard",
            "type": "synthetic",
            "output_dir": "timelapse/yard",
            "timezone": "Asia/Tokyo",
            "enabled": "on",
            "quality": "85",
            "s-0-id": "hourly",
            "s-0-cron": "0 * * * *",
            "s-0-enabled": "on",
        },
    )
    assert (
        response.status_code == 303 and response.headers["location"] == "/cameras/back-yard?saved=1"
    )
    saved = json.loads(config_path.read_text())["cameras"]["back-yard"]
    assert saved["name"] == "Back Yard" and saved["quality"] == 85
    assert saved["schedules"] == [{"id": "hourly", "minute": "0"}]
    assert "connect_timeout" not in saved  # untouched defaults stay out of the file
    assert runtime.scheduler is not None
    assert any(r.camera_id == "back-yard" for r in runtime.scheduler.next_runs(20))
    again = post("/cameras/new", data={"name": "Back Yard", "output_dir": "x", "type": "synthetic"})
    assert again.status_code == 422 and "camera_id" in again.context["errors"]


def test_type_specific_fields_are_tagged(client) -> None:
    html = client.get("/cameras/new").text
    assert 'data-types="http mjpeg rtsp"' in html
    assert 'data-types="gphoto2"' in html


def test_an_empty_password_keeps_the_stored_one(client, post, runtime) -> None:
    data = {
        "name": "Porch",
        "type": "http",
        "url": "http://cam.local/shot.jpg",
        "username": "admin",
        "password": "hunter22",
        "output_dir": "timelapse/porch",
        "enabled": "on",
    }
    assert post("/cameras/new", data=data).status_code == 303
    page = client.get("/cameras/porch")
    assert page.context["values"]["password"] == "" and page.context["values"]["has_password"]
    fields = form_fields(page.text)
    assert fields["password"] == ""
    assert post("/cameras/porch", data=fields).status_code == 303
    assert runtime.config.cameras["porch"].password == "hunter22"
    fields["clear_password"] = "on"
    assert post("/cameras/porch", data=fields).status_code == 303
    assert runtime.config.cameras["porch"].password is None


def test_a_masked_url_keeps_the_real_one(client, post, runtime) -> None:
    url = "http://admin:pw1234@cam.local/shot.jpg"
    data = {"name": "Porch", "type": "http", "url": url, "output_dir": "timelapse/porch"}
    assert post("/cameras/new", data=data).status_code == 303
    fields = form_fields(client.get("/cameras/porch").text)
    assert "pw1234" not in fields["url"] and "***" in fields["url"]
    assert post("/cameras/porch", data=fields).status_code == 303
    assert runtime.config.cameras["porch"].url == url


def test_editing_a_masked_url_keeps_its_secrets(client, post, runtime) -> None:
    url = "http://admin:pa/ss@cam.local/snapshot.cgi?loginuse=admin&loginpas=S3cr3t&res=0"
    data = {"name": "Porch", "type": "http", "url": url, "output_dir": "timelapse/porch"}
    assert post("/cameras/new", data=data).status_code == 303
    fields = form_fields(client.get("/cameras/porch").text)
    shown = "http://admin:***@cam.local/snapshot.cgi?loginuse=admin&loginpas=***&res=0"
    assert fields["url"] == shown
    fields["url"] = fields["url"].replace("res=0", "res=1")  # the user changes something else
    assert post("/cameras/porch", data=fields).status_code == 303
    assert runtime.config.cameras["porch"].url == url.replace("res=0", "res=1")
    fields["url"] = fields["url"].replace("loginpas=***", "loginpas=N3w")  # or the secret
    assert post("/cameras/porch", data=fields).status_code == 303
    assert runtime.config.cameras["porch"].url.endswith("&loginpas=N3w&res=1")
    assert "pa/ss@" in runtime.config.cameras["porch"].url


def test_remove_a_camera(client, post, runtime) -> None:
    response = post("/cameras/demo/delete")
    assert response.status_code == 303
    assert response.headers["location"] == "/cameras?removed=demo&kept="  # it had no frames
    assert "demo" not in runtime.config.cameras
    assert client.get("/cameras/demo").status_code == 404


def test_create_a_collection_from_a_camera(client, post, runtime) -> None:
    response = post("/cameras/demo/collection")
    assert response.status_code == 303 and response.headers["location"] == "/collections/demo"
    coll = runtime.config.collections["demo"]
    assert coll.camera == "demo" and coll.path == "timelapse/demo"
    assert coll.timezone == "Europe/Berlin" and coll.name == "Demo camera"
    # a second click opens the same collection
    assert post("/cameras/demo/collection").headers["location"] == "/collections/demo"
    assert len(runtime.config.collections) == 1


def test_unknown_camera_is_404(client, post) -> None:
    assert client.get("/cameras/nope").status_code == 404
    assert post("/cameras/nope", data={"name": "x"}).status_code == 404


@pytest.mark.parametrize(
    "output_dir",
    ["../outside", "timelapse/../../etc", "/etc/pylapse", "timelapse/link-out/x", "%2e%2e/x"],
)
def test_a_new_output_folder_must_be_inside_a_storage_root(
    client, post, runtime, config_path, output_dir: str
) -> None:
    root = runtime.config.root_paths[0]
    (root.parent / "elsewhere").mkdir()
    (root / "link-out").symlink_to(root.parent / "elsewhere")
    before = config_path.read_text()
    fields = form_fields(client.get("/cameras/demo").text)
    fields["output_dir"] = output_dir
    response = post("/cameras/demo", data=fields)
    assert response.status_code == 422
    assert "outside the storage roots" in response.context["errors"]["output_dir"]
    assert config_path.read_text() == before


def test_a_new_camera_gets_a_folder_in_the_first_root(client, post, runtime) -> None:
    response = post("/cameras/new", data={"name": "Garden", "type": "synthetic"})
    assert response.status_code == 303, response.text
    assert runtime.config.cameras["garden"].output_dir == "timelapse/garden"


def test_fields_the_form_does_not_show_survive_a_save(client, post, config_path) -> None:
    from web_support import csrf_token

    body = {
        "name": "NVR",
        "type": "http",
        "url": "http://nvr.local/snap?ch=1",
        "auth": "digest",
        "username": "viewer",
        "password": "pw-98765",
        "headers": {"X-Api": "1"},
        "max_bytes": 1000000,
        "max_redirects": 0,
        "verify_tls": False,
        "connect_timeout": 3.0,
        "output_dir": "timelapse/nvr",
        "quality": 80,
        "resize": True,
        "resize_width": 1280,
        "schedules": [{"id": "q", "minute": "*/15", "second": 30}],
    }
    headers = {"X-CSRF-Token": csrf_token(client)}
    assert client.put("/api/cameras/nvr", json=body, headers=headers).status_code == 200
    before = json.loads(config_path.read_text())["cameras"]["nvr"]
    page = client.get("/cameras/nvr")
    assert page.context["rows"][0].cron == "30 */15 * * * *"
    assert post("/cameras/nvr", data=form_fields(page.text)).status_code == 303
    assert json.loads(config_path.read_text())["cameras"]["nvr"] == before


def test_test_grab_shows_a_frame_without_saving(client, post, config_path) -> None:
    before = config_path.read_text()
    fields = form_fields(client.get("/cameras/demo").text)
    assert fields["existing_id"] == "demo"
    response = post("/cameras/test-source", data=fields)
    assert response.template.name == "partials/_source_test.html"
    test = response.context["test"]
    assert test["ok"], test
    assert (test["width"], test["height"]) == (320, 180)
    assert test["image"].startswith("data:image/jpeg;base64,")
    assert config_path.read_text() == before
    assert not (config_path.parent / "test").exists()


def test_test_grab_reports_why_it_failed_without_the_password(client, post, free_port) -> None:
    response = post(
        "/cameras/test-source",
        data={
            "name": "Gone",
            "type": "http",
            "password": "pw-55555",
            "connect_timeout": "1",
            "url": f"http://admin:pw-55555@127.0.0.1:{free_port}/shot.jpg",
        },
    )
    test = response.context["test"]
    assert not test["ok"] and test["error"]
    assert "pw-55555" not in response.text
    bad = post("/cameras/test-source", data={"name": "", "type": "http"})
    assert not bad.context["test"]["ok"] and bad.context["test"]["errors"]


def test_reserved_names_do_not_shadow_pages(client, post, runtime) -> None:
    assert post("/cameras/new", data={"name": "New", "type": "synthetic"}).status_code == 303
    assert "new-camera" in runtime.config.cameras


def test_a_new_camera_starts_as_an_http_snapshot(client) -> None:
    form = client.get("/cameras/new")
    assert form.context["values"]["type"] == "http"
    assert re.search(r'<option value="http"\s+selected', form.text)
    assert not re.search(r'<option value="synthetic"\s+selected', form.text)


def test_schedule_rows_offer_day_boxes_for_a_plain_day_field(client, post, runtime) -> None:
    row = cf.ScheduleRow(index=0, cron="5 8,10,12 * * 1-5")
    assert row.days == {"tue", "wed", "thu", "fri", "sat"}  # 0 = Monday, as the config says
    assert cf.ScheduleRow(index=0, cron="0 12 * * mon-fri").days == {
        "mon", "tue", "wed", "thu", "fri"
    }
    assert cf.ScheduleRow(index=0, cron="*/2 * * * *").days == set(cf.DAYS)
    assert cf.ScheduleRow(index=0, cron="0 12 * * */2").days is None  # more than days: text
    assert cf.ScheduleRow(index=0, cron="0 12 * *").days is None  # not a whole line
    form = client.get("/cameras/demo")
    shown = form.context["rows"][0]
    assert 'data-days-for="s-0-cron"' in form.text
    ticked = re.findall(r'<input type="checkbox" value="(\w+)" checked>', form.text)
    assert shown.days and ticked[: len(shown.days)] == [d for d in cf.DAYS if d in shown.days]


def test_the_interval_editor_takes_fractions_of_a_second_and_refuses_nonsense(
    client, post, runtime
) -> None:
    # a Pi camera kept open can shoot every half second (issue 15); the file took it already
    fields = form_fields(client.get("/cameras/demo").text)
    fields.update({"s-1-interval_amount": "0.5", "s-1-interval_unit": "seconds",
                   "s-1-enabled": "on"})  # fmt: skip
    assert post("/cameras/demo", data=fields).status_code == 303
    fast = runtime.config.cameras["demo"].schedules[1]
    assert fast.interval_amount == 0.5 and fast.interval_unit == "seconds"
    for bad in ("0", "-2", "abc", "nan"):
        fields["s-1-interval_amount"] = bad
        response = post("/cameras/demo", data=fields)
        assert response.status_code == 422, bad
        assert "a number above 0" in response.context["errors"]["s-1-interval_amount"]


# -- capture hosts -------------------------------------------------------------------------------


def test_the_cameras_page_says_which_host_captures_which_camera(client, runtime):
    from pylapse.capture.leases import LeaseHolder

    me = runtime.scheduler.host
    page = client.get("/cameras")
    assert page.context["camera_hosts"] == {"demo": me}
    [row] = page.context["capture_hosts"]
    assert (row.host, row.cameras, row.alive, row.here) == (me, ["demo"], True, True)
    assert 'id="capture-hosts"' in page.text and "this dashboard" in page.text
    assert row.duty and "runs scheduled renders" in page.text  # the only host: it has the duty
    card = client.get("/dashboard/cameras/demo")
    assert card.context["card"].host == me and 'class="camera-host"' in card.text
    # another host, silent for a minute (dead, or cut off): shown as such, holding nothing
    gone = LeaseHolder("pi-roof", 4321, "t")
    runtime.leases.beat(gone, now=time.time() - 60)
    part = client.get("/cameras/hosts")
    assert part.template.name == "partials/_capture_hosts.html"
    rows = {r.host: r for r in part.context["capture_hosts"]}
    assert rows["pi-roof"].alive is False and rows["pi-roof"].cameras == []
    assert rows["pi-roof"].duty is False
    assert "silent" in part.text and "pid 4321" in part.text


def test_the_form_pins_a_camera_to_a_host_and_refuses_a_bad_name(client, post, runtime) -> None:
    fields = form_fields(client.get("/cameras/demo").text)
    assert fields["capture_host"] == ""
    fields["capture_host"] = "pi roof"
    response = post("/cameras/demo", data=fields)
    assert response.status_code == 422
    assert "'pi roof' is not a host name" in response.context["errors"]["capture_host"]
    fields["capture_host"] = "pi-roof"
    post("/cameras/demo", data=fields)
    assert runtime.config.cameras["demo"].capture_host == "pi-roof"
    assert "demo" not in runtime.scheduler.leases.held  # pinned elsewhere: let go at once
    fields = form_fields(client.get("/cameras/demo").text)
    assert fields["capture_host"] == "pi-roof"
    fields["capture_host"] = ""
    post("/cameras/demo", data=fields)
    assert runtime.config.cameras["demo"].capture_host is None
    assert "demo" in runtime.scheduler.leases.held


def test_a_camera_of_another_host_shows_its_health_and_host_silent_when_it_stops(
    client, post, runtime, index_location, tmp_path
) -> None:
    from datetime import UTC

    from pylapse.capture.health import HealthStore
    from pylapse.capture.leases import LeaseHolder

    fields = form_fields(client.get("/cameras/demo").text)
    fields["capture_host"] = "pi-roof"  # this dashboard lets the camera go
    post("/cameras/demo", data=fields)
    # host A (pi-roof): holds the camera and records its health in the shared index
    roof = LeaseHolder("pi-roof", 4321, "t")
    runtime.leases.take(roof, ["demo"], 30, beat=True)
    there = HealthStore(runtime.config.index_location, data_path=tmp_path / "pi-roof",
                        frozen_after=3)
    for i in range(3):  # the same bytes three times in a row: frozen
        there.record_success("demo", datetime.now(UTC), path=f"/f/{i}.jpg", frame_id=None,
                             size=10, digest="same", stddev=40.0, duration=0.1)  # fmt: skip
    there.close()

    card = client.get("/dashboard/cameras/demo").context["card"]
    assert (card.health.state, card.host) == ("frozen", "pi-roof")
    page = client.get("/cameras")
    assert 'id="camera-health-demo" class="badge frozen"' in page.text
    assert "pi-roof <span" in page.text  # the Host cell (pinned there too)

    # pi-roof stops beating: past its lease its camera is "host silent", named, not "frozen"
    runtime.leases.take(roof, ["demo"], 30, now=time.time() - 60, beat=True)
    card = client.get("/dashboard/cameras/demo")
    assert card.context["card"].health.state == "host silent"
    assert "pi-roof (silent)" in card.text and "badge host-silent" in card.text
    assert client.get("/api/cameras/demo").json()["health"]["state"] == "host silent"
    # the Capture hosts card's poll redraws the camera list's Health and Host cells
    part = client.get("/cameras/hosts")
    cells = re.findall(r'<span id="camera-(health|host)-demo"[^>]*hx-swap-oob="true"[^>]*>'
                       r"([^<]*)", part.text)  # fmt: skip
    assert cells == [("health", "host silent"), ("host", "pi-roof (silent) ")]
