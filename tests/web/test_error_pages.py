"""Error answers: a styled page in words for a browser navigating, JSON for scripts, htmx and
the API."""

from __future__ import annotations

import pytest

PAGE = {"Accept": "text/html,application/xhtml+xml"}


@pytest.mark.parametrize(
    ("url", "status", "words"),
    [
        ("/no-such-page", 404, "Not Found"),
        ("/dashboard/log?per_page=abc", 422, "per_page must be a whole number, not 'abc'"),
        ("/exports/history?page=0", 422, "page must be at least 1"),
    ],
)
def test_bad_urls_get_a_styled_page_in_words(client, url: str, status: int, words: str) -> None:
    response = client.get(url, headers=PAGE)
    assert response.status_code == status
    assert response.template.name == "error.html"
    assert words in response.context["detail"]
    assert "/static/app.css" in response.text  # the dashboard's own look, not raw JSON
    assert "int_parsing" not in response.text and "Input should be" not in response.text


def test_scripts_htmx_and_the_api_keep_json(client) -> None:
    plain = client.get("/dashboard/log?per_page=abc")
    assert plain.status_code == 422 and plain.json()["detail"][0]["loc"] == ["query", "per_page"]
    htmx = client.get("/dashboard/log?per_page=abc", headers={**PAGE, "HX-Request": "true"})
    assert htmx.headers["content-type"] == "application/json"
    api = client.get("/api/frames/abc", headers=PAGE)
    assert api.status_code == 422 and api.headers["content-type"] == "application/json"
    assert client.get("/api/nope", headers=PAGE).json() == {"detail": "Not Found"}
