"""Apple's ``form_post`` callback: Apple's page posts the code and the frontend's state through
the browser to ``/auth/callback/apple``, which sends the browser back (303) to the website's page
named in the state, and nowhere else."""

from __future__ import annotations

import base64
import json
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from tests.support.api import Api, running_api
from tokenward.recipes.thirdparty.rules.authorisation import (
    BadCallback,
    RedirectNotAllowed,
    callback_return_url,
    frontend_redirect_uri,
)

WEBSITE = "http://localhost:3000"
PAGE = f"{WEBSITE}/auth/callback/apple"
FROM_APPLE = {"origin": "https://appleid.apple.com", "sec-fetch-site": "cross-site"}


def state(value: Any, *, urlsafe: bool = False, padded: bool = True) -> str:
    raw = json.dumps(value).encode()
    encoded = (base64.urlsafe_b64encode if urlsafe else base64.b64encode)(raw).decode()
    return encoded if padded else encoded.rstrip("=")


@pytest.mark.parametrize(
    "encoded",
    [
        state({"state": "s1", "frontendRedirectURI": PAGE}),
        state({"state": "s1", "frontendRedirectURI": PAGE}, urlsafe=True, padded=False),
    ],
)
def test_the_page_is_read_from_either_base64(encoded: str) -> None:
    assert frontend_redirect_uri(encoded) == PAGE


@pytest.mark.parametrize(
    ("encoded", "message"),
    [
        (None, "provide the state"),
        ("", "provide the state"),
        ("not base64!", "base64 encoded"),
        (base64.b64encode(b"\xff\xfe").decode(), "JSON object"),
        (state(["a list"]), "frontendRedirectURI"),
        (state({"state": "s1"}), "frontendRedirectURI"),
        (state({"frontendRedirectURI": 7}), "frontendRedirectURI"),
    ],
)
def test_a_state_without_a_page_is_refused(encoded: str | None, message: str) -> None:
    with pytest.raises(BadCallback, match=message):
        frontend_redirect_uri(encoded)


@pytest.mark.parametrize(
    "page",
    [
        "https://evil.example/callback",
        "http://localhost:3000.evil.example/",
        "https://localhost:3000/auth/callback/apple",
        "http://localhost:3001/auth/callback/apple",
        "http://user:pw@localhost:3000/auth/callback/apple",
        "http://localhost:3000/auth/callback/apple#frag",
        "javascript:alert(1)",
        "//evil.example/",
    ],
)
def test_a_page_off_the_website_is_refused(page: str) -> None:
    with pytest.raises(RedirectNotAllowed):
        callback_return_url(state({"frontendRedirectURI": page}), {}, [WEBSITE])


def test_the_posted_fields_join_the_page_query() -> None:
    page = f"{PAGE}?tenantId=public&code=old"
    url = callback_return_url(
        state({"frontendRedirectURI": page}), {"code": "c1", "state": "x"}, [WEBSITE]
    )
    parts = urlsplit(url)
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == PAGE
    assert parse_qs(parts.query) == {"tenantId": ["public"], "code": ["c1"], "state": ["x"]}


@pytest.fixture
async def api(database_url: str) -> AsyncIterator[Api]:
    async with running_api(database_url, website_domain=WEBSITE) as running:
        yield running


async def test_apple_posts_and_the_browser_goes_back_to_the_website(api: Api) -> None:
    frontend_state = state({"state": "s1", "frontendRedirectURI": PAGE})
    answer = await api.client.post(
        "/auth/callback/apple",
        data={"code": "apple-code", "state": frontend_state, "user": '{"name":{}}'},
        headers={**FROM_APPLE, "cookie": "sAccessToken=whatever"},
    )
    assert answer.status_code == 303, answer.text
    location = urlsplit(answer.headers["location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == PAGE
    query = parse_qs(location.query)
    assert query["code"] == ["apple-code"] and query["state"] == [frontend_state]
    assert query["user"] == ['{"name":{}}']


@pytest.mark.parametrize(
    ("body", "headers"),
    [
        ({"code": "c", "state": state({"frontendRedirectURI": "https://evil.example/"})}, {}),
        ({"code": "c", "state": "%%%"}, {}),
        ({"code": "c"}, {}),
        (b'{"code": "c"}', {"content-type": "application/json"}),
        (b"\xff\xfe=1", {"content-type": "application/x-www-form-urlencoded"}),
    ],
)
async def test_a_bad_callback_is_400_and_redirects_nowhere(
    api: Api, body: dict[str, str] | bytes, headers: dict[str, str]
) -> None:
    if isinstance(body, bytes):
        answer = await api.client.post(
            "/auth/callback/apple", content=body, headers={**FROM_APPLE, **headers}
        )
    else:
        answer = await api.client.post("/auth/callback/apple", data=body, headers=FROM_APPLE)
    assert answer.status_code == 400 and "location" not in answer.headers
    assert answer.json()["message"]


async def test_other_routes_still_refuse_cross_site_posts(api: Api) -> None:
    answer = await api.client.post(
        "/auth/signinup", json={"thirdPartyId": "apple"}, headers=FROM_APPLE
    )
    assert answer.status_code == 403
