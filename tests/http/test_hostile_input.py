"""Malformed and oversized input gets a clear 4xx, never a 500, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.support.api import Api, running_api

EP = {"rid": "emailpassword", "content-type": "application/json"}
API_KEY = "hostile-input-test-key-0123456789"


@pytest.fixture
async def api(database_url: str) -> AsyncIterator[Api]:
    async with running_api(database_url, api_keys=API_KEY) as running:
        yield running


@pytest.mark.parametrize(
    "body",
    [
        '{"formFields":[{"id":"email","value":"a\\ud800@b.co"},{"id":"password","value":"x"}]}',
        '{"formFields":[{"id":"email","value":"a\\u0000@b.co"},{"id":"password","value":"x"}]}',
        '{"formFields":[{"id":"email\\u0000","value":"a@b.co"}]}',
    ],
)
async def test_nul_and_lone_surrogates_in_json_are_400(api: Api, body: str) -> None:
    for path in ("/auth/signin", "/auth/signup", "/auth/user/password/reset/token"):
        response = await api.client.post(path, content=body.encode(), headers=EP)
        assert response.status_code == 400, (path, response.text)
        assert set(response.json()) == {"message"}
    reset = await api.client.post(
        "/auth/user/password/reset",
        content=b'{"method":"token","token":"\\ud800","formFields":[{"id":"password","value":"x"}]}',
        headers=EP,
    )
    assert reset.status_code == 400


async def test_nul_in_query_parameters_is_never_a_500(api: Api) -> None:
    exists = await api.client.get(
        "/auth/emailpassword/email/exists", params={"email": "a\x00@b.co"}
    )
    assert exists.status_code in (200, 400), exists.text
    user = await api.client.get(
        "/user/id", params={"userId": "u\x00"}, headers={"api-key": API_KEY}
    )
    assert user.status_code in (200, 400), user.text


async def test_oversized_bodies_are_413_even_when_chunked(api: Api) -> None:
    async def chunks() -> AsyncIterator[bytes]:
        yield b'{"formFields":['
        for _ in range(200):
            yield b" " * 1024

    streamed = await api.client.post("/auth/signin", content=chunks(), headers=EP)
    assert (streamed.status_code, streamed.json()) == (
        413,
        {"message": "Request body is too large"},
    )
    declared = await api.client.post("/auth/signin", content=b" " * 70_000, headers=EP)
    assert declared.status_code == 413
    core = await api.client.post(
        "/recipe/signin", content=b" " * 300_000, headers={"api-key": API_KEY}
    )
    assert core.status_code == 413


async def test_core_api_revokes_a_users_sessions_in_the_path_tenant_only(api: Api) -> None:
    acme = await api.create_session("u", tenant_id="acme")
    public = await api.create_session("u")
    response = await api.client.post(
        "/acme/recipe/session/remove",
        json={"userId": "u", "revokeAcrossAllTenants": False},
        headers={"api-key": API_KEY},
    )
    assert response.json() == {
        "status": "OK",
        "sessionHandlesRevoked": [acme.access.claims.session_handle],
    }
    assert await api.runtime.stores.sessions.get(public.access.claims.session_handle) is not None


async def test_a_client_that_leaves_mid_body_is_no_server_error(
    api: Api, caplog: pytest.LogCaptureFixture
) -> None:
    """A load generator stopping, a browser tab closed: the body never arrives. That is no
    "unhandled error" with a traceback in the logs."""
    sent: list[dict[str, object]] = []
    parts = iter(
        [
            {"type": "http.request", "body": b'{"formFields": [', "more_body": True},
            {"type": "http.disconnect"},
        ]
    )

    async def receive() -> dict[str, object]:
        return next(parts)

    async def send(message: dict[str, object]) -> None:
        sent.append(message)

    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST",
        "scheme": "http", "path": "/auth/signin", "raw_path": b"/auth/signin", "query_string": b"",
        "root_path": "", "headers": [(b"content-type", b"application/json"),
                                     (b"rid", b"emailpassword")],
        "client": ("127.0.0.1", 5000), "server": ("localhost", 3567), "state": {},
    }  # fmt: skip
    await api.app(scope, receive, send)
    assert [m["status"] for m in sent if m["type"] == "http.response.start"] == [400]
    assert not [r for r in caplog.records if r.levelname in ("ERROR", "CRITICAL")]
