"""The export form agrees with itself: invalid presets are never saved, errors read as
sentences, dates are date pickers, days of the week are ticked by name, an empty selection
warns before saving or running."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from media_support import demo_frames
from test_exports import BASE_FORM, create
from web_support import BOTH_BACKENDS


@pytest.mark.parametrize(
    ("fields", "field", "words"),
    [
        ({"date_from": "2026-13-45"}, "date_from", "not a day on the calendar"),
        ({"date_from": "2026-02-30"}, "date_from", "not a day on the calendar"),
        ({"date_from": "2026-03-10", "date_to": "2026-03-01"}, "date_to", "before the first"),
        ({"tolerance": "-5"}, "tolerance", "The tolerance must be at least 0, not '-5'"),
        ({"offset_x": "abc"}, "offset_x", "Offset x must be a whole number, not 'abc'"),
        ({"minute": "61"}, "minute", "61 is more than 59. Accepted: 0-59"),
        ({"second": "*/0"}, "second", "a step (*/n) must be 1 or more"),
    ],
)
def test_an_invalid_preset_is_never_saved_and_says_why_in_words(
    client, post, runtime, fields, field, words
) -> None:
    response = create(post, **fields)
    assert response.status_code == 422
    assert "quarter" not in runtime.config.exports  # never "Saved." after an error
    message = response.context["errors"][field]
    assert words in message, message
    for raw in ("Input should", "Value error", "Error validating", "unable to parse", "(got "):
        assert raw not in message
    assert response.context.get("flash") in (None, "")


def test_an_edit_with_an_error_keeps_the_saved_preset(client, post, runtime) -> None:
    assert create(post, date_from="2026-03-01").status_code == 303
    bad = post("/exports/quarter", {**BASE_FORM, "date_from": "2026-03-01",
                                    "date_to": "2026-02-01"})  # fmt: skip
    assert bad.status_code == 422 and "Saved." not in bad.text
    assert runtime.config.exports["quarter"].date_to is None


def test_dates_are_date_pickers_and_instants_stay_text(client, post, runtime) -> None:
    html = client.get("/exports/new").text
    assert re.search(r'type="date" name="date_from"', html)
    assert re.search(r'type="date" name="date_to"', html)
    assert create(post, date_from="2026-03-01T06:00").status_code == 303
    html = client.get("/exports/quarter").text
    assert re.search(r'type="text" name="date_from" value="2026-03-01T06:00"', html)
    assert re.search(r'type="date" name="date_to"', html)


def test_days_of_the_week_are_ticked_by_name(client, post, runtime) -> None:
    token = _token(client)
    form = {**BASE_FORM, "preset_id": "quarter", "dow_names": "1", "csrf_token": token,
            "dow": ["mon", "tue", "wed", "thu", "fri"]}  # fmt: skip
    response = client.post("/exports/new", data=form)
    assert response.status_code == 303, response.text
    assert runtime.config.exports["quarter"].day_of_week == "mon-fri"
    html = client.get("/exports/quarter").text
    ticked = re.findall(r'name="dow" value="(\w+)" checked', html)
    assert ticked == ["mon", "tue", "wed", "thu", "fri"]
    # every box ticked is every day; none ticked is refused in words
    every = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
    base = {**BASE_FORM, "dow_names": "1", "csrf_token": token}
    saved = client.post("/exports/quarter", data={**base, "dow": every})
    assert saved.status_code == 303 and runtime.config.exports["quarter"].day_of_week is None
    none = client.post("/exports/quarter", data=base)
    assert none.status_code == 422
    assert none.context["errors"]["day_of_week"] == "tick at least one day of the week"


def test_a_rule_the_boxes_cannot_show_stays_a_text_field(client, post, runtime) -> None:
    assert create(post, day_of_week="*/2").status_code == 303
    html = client.get("/exports/quarter").text
    assert 'name="dow"' not in html and 'name="day_of_week" value="*/2"' in html
    # and a rule typed under "Another rule" wins over the boxes
    form = {**BASE_FORM, "dow_names": "1", "dow": ["mon"], "day_of_week_rule": "sat,sun",
            "csrf_token": _token(client)}  # fmt: skip
    assert client.post("/exports/quarter", data=form).status_code == 303
    assert runtime.config.exports["quarter"].day_of_week == "sat,sun"


def _token(client) -> str:  # type: ignore[no-untyped-def]
    from web_support import csrf_token

    return csrf_token(client)


@BOTH_BACKENDS
def test_an_empty_selection_warns_before_saving_and_running(client, post, runtime) -> None:
    demo_frames(runtime, count=4, step=timedelta(minutes=10))
    params = {**BASE_FORM, "hour": "3"}  # the frames are at 09:00-09:30
    preview = client.get("/exports/preview", params=params)
    assert preview.context["summary"]["chosen"] == 0
    assert 'id="no-frames"' in preview.text and 'data-chosen="0"' in preview.text
    some = client.get("/exports/preview", params=BASE_FORM)
    assert some.context["summary"]["chosen"] == 4 and 'id="no-frames"' not in some.text
    assert create(post).status_code == 303
    html = client.get("/exports/quarter").text
    assert re.search(r'id="export-form"[^>]*\s+data-warn-empty="[^"]+Save anyway\?"', html)
    assert re.search(r'id="run-form"[^>]*\s+data-warn-empty="[^"]+Run anyway\?"', html)
    script = client.get("/static/app.js").text
    assert "#selection-preview [data-chosen='0']" in script and "warnEmpty" in script


def test_a_neutral_hint_is_not_shown_as_an_error(client) -> None:
    response = client.get("/exports/preview", params={**BASE_FORM, "collection": ""})
    assert "choose a collection" in response.text
    assert re.search(r'class="small muted">choose a collection', response.text)
    bad = client.get("/exports/preview", params={**BASE_FORM, "minute": "61"})
    assert re.search(r'class="small error">', bad.text)


def test_the_deflicker_checkbox_and_its_settings_are_saved(client, post, runtime) -> None:
    html = client.get("/exports/new").text
    assert 'name="deflicker"' in html and 'name="deflicker_window"' in html
    response = create(post, deflicker="on", deflicker_window="21", deflicker_strength="0.8")
    assert response.status_code == 303
    saved = runtime.config.exports["quarter"]
    assert (saved.deflicker, saved.deflicker_window, saved.deflicker_strength) == (True, 21, 0.8)
    assert re.search(r'name="deflicker" checked', client.get("/exports/quarter").text)
    bad = create(post, deflicker="on", deflicker_window="2")
    assert bad.status_code == 422 and "deflicker_window" in bad.context["errors"]
