"""Pictures page, pictures by day (issue 21 §3): a one-day kind with an "Until" day makes one
job with a picture per day, listed with thumbnails in its job card and in the made pictures,
naming the days without frames; a bad range is refused on its field."""

from __future__ import annotations

from datetime import datetime, timedelta
from io import BytesIO

from media_support import BERLIN, HxAttrs, demo_frames, wait_job
from PIL import Image
from web_support import BOTH_BACKENDS

DAYS = ("2026-03-10", "2026-03-11", "2026-03-13")  # and 2026-03-12: no frames


@BOTH_BACKENDS
def test_a_range_makes_one_job_with_a_picture_per_day(client, post, runtime) -> None:
    for day in DAYS:
        start = datetime.fromisoformat(f"{day}T09:00").replace(tzinfo=BERLIN)
        demo_frames(runtime, count=4, step=timedelta(minutes=10), start=start)
    form = {"kind": "keogram", "collection": "demo", "date": DAYS[0], "day_to": DAYS[-1],
            "slot_width": "600", "scale": "2"}  # fmt: skip
    started = post("/pictures", form, headers={"HX-Request": "true"})
    assert started.status_code == 200, started.text
    assert started.template.name == "partials/_media_job.html"
    job = wait_job(runtime, started.context["job"].id)
    assert job.state == "done", job.error
    assert [j.id for j in runtime.jobs.list() if j.kind == "picture"] == [job.id]  # one job
    names = [f"demo-keogram-{day}.png" for day in DAYS]
    assert [p["output"].rsplit("/", 1)[-1] for p in job.result["pictures"]] == names
    assert job.result["empty_days"] == ["2026-03-12"]
    assert all(p["frames"] == 4 and p["width"] == 144 for p in job.result["pictures"])
    card = client.get(f"/pictures/jobs/{job.id}")
    assert card.status_code == 200 and "no frames on 2026-03-12" in card.text
    thumbs = [a["src"] for a in HxAttrs(card.text).with_attr("src")]
    assert thumbs == [f"/pictures/file/{n}?thumb=1" for n in names]
    listed = client.get("/pictures/list")
    assert sorted(p.path.name for p in listed.context["pictures"]) == names
    for src in thumbs:
        thumb = client.get(src)
        assert thumb.status_code == 200 and thumb.headers["content-type"] == "image/jpeg"
        assert f'src="{src}"' in listed.text
    with Image.open(BytesIO(client.get(f"/pictures/file/{names[1]}").content)) as keogram:
        assert keogram.width == 144  # a column per 10-minute slot of the day


def test_a_bad_range_is_refused_on_its_field(client, post, runtime) -> None:
    base = {"kind": "daystrip", "collection": "demo", "date": "2026-03-10"}
    bad = post("/pictures", {**base, "day_to": "2026-03-09"})
    assert bad.status_code == 422
    assert bad.context["errors"]["day_to"] == (
        "the last day (2026-03-09) is before the first day (2026-03-10)"
    )
    assert 'aria-invalid="true"' in bad.text and 'value="2026-03-09"' in bad.text
    bad = post("/pictures", {**base, "day_to": "2027-03-11"}, headers={"HX-Request": "true"})
    assert bad.status_code == 422 and bad.headers["HX-Retarget"] == "#picture-form"
    assert "2026-03-10 to 2027-03-11 is 367 days: at most 366 days" in bad.text
    bad = post("/pictures", {**base, "day_to": "13/03/2026"})
    assert bad.status_code == 422 and "is not a date" in bad.context["errors"]["day_to"]
    bad = post("/pictures", {"kind": "colormap", "collection": "demo", "date_from": "2026-03-10",
                             "date_to": "2026-03-12", "day_to": "2026-03-12"})  # fmt: skip
    assert bad.status_code == 422 and "one-day kinds" in bad.context["errors"]["day_to"]
    assert runtime.jobs.list() == []
