"""Which requests get the token and how: only the API's origin, never over the caller's own
Authorization, streaming bodies replayed on retry, tokens kept out of logs."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator

import pytest

from tests.client.conftest import World
from tests.client.support import PASSWORD, PROTECTED, REFRESH, form
from tests.client.test_renewal import HOUR, signed_in
from tokenward.client.protocol import Endpoints

ELSEWHERE = "http://elsewhere.example"


async def test_other_origins_never_receive_the_token(world: World) -> None:
    _, client = await signed_in(world)
    response = await client.get(f"{ELSEWHERE}{PROTECTED}")
    assert response.status_code == 401
    assert world.recorder.calls[-1].authorization is None
    assert world.recorder.count(REFRESH) == 0


async def test_extra_origins_can_be_allowed(world: World) -> None:
    _, client = await signed_in(world, origins=[ELSEWHERE])
    assert (await client.get(f"{ELSEWHERE}{PROTECTED}")).status_code == 200


async def test_an_explicit_authorization_header_is_left_alone(world: World) -> None:
    _, client = await signed_in(world)
    response = await client.get(PROTECTED, headers={"authorization": "Bearer mine"})
    assert response.status_code == 401
    assert world.recorder.calls[-1].authorization == "Bearer mine"
    assert world.recorder.count(REFRESH) == 0


async def test_a_streaming_body_is_replayed_on_the_retry(world: World) -> None:
    _, client = await signed_in(world)
    world.server_clock.advance(seconds=HOUR + 5)

    async def chunks() -> AsyncIterator[bytes]:
        yield b"first,"
        yield b"second"

    response = await client.post(PROTECTED, content=chunks())
    assert response.status_code == 200
    first, _, retry = world.recorder.calls
    assert first.status == 401 and first.body == retry.body == b"first,second"


async def test_without_credentials_or_tokens_requests_go_out_as_they_are(world: World) -> None:
    client = world.client(world.auth())
    response = await client.get(PROTECTED)
    assert response.status_code == 401
    assert world.recorder.paths() == [(PROTECTED, 401)]


async def test_tokens_and_passwords_never_reach_the_logs(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    auth, client = await signed_in(world)
    world.advance(seconds=HOUR)
    await client.get(PROTECTED)
    secrets = [PASSWORD]
    for call in world.recorder.calls:
        if call.authorization:
            secrets.append(call.authorization.removeprefix("Bearer "))
    assert len(secrets) > 2
    logged = caplog.text + repr(auth) + repr(auth._state.snapshot())
    assert not [s for s in secrets if s in logged]


def test_tenant_routes_follow_web_js() -> None:
    assert Endpoints("https://api.example").sign_in == "https://api.example/auth/signin"
    public = Endpoints("https://api.example", "/auth", "public")
    assert public.sign_in == "https://api.example/auth/signin"
    tenant = Endpoints("https://api.example/", "/api/auth/", "acme")
    assert tenant.sign_in == "https://api.example/api/auth/acme/signin"
    assert tenant.refresh == "https://api.example/api/auth/session/refresh"


async def test_a_session_created_through_the_client_is_adopted(world: World) -> None:
    auth = world.auth()
    async with world.client(auth) as client:
        response = await client.post("/auth/signup", json=form("bob@example.com", PASSWORD))
        assert response.json()["status"] == "OK"
        assert auth.signed_in and auth.user_id == response.json()["user"]["id"]
        assert (await client.get(PROTECTED)).status_code == 200
