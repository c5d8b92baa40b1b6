"""Signing in and keeping the session alive: lazy sign-in, renewal before expiry (on the
server's clock, skew corrected), renewal after a session-expired answer with one retry, and
one refresh shared by concurrent requests. Real app in-process, clocks moved by hand."""

from __future__ import annotations

import asyncio

import httpx

from tests.client.conftest import World
from tests.client.support import PASSWORD, PROTECTED, REFRESH, SIGNIN, session_expired
from tokenward.client import SessionAuth

HOUR = 3600  # the default access-token validity


async def signed_in(world: World, **options: object) -> tuple[SessionAuth, httpx.AsyncClient]:
    await world.sign_up()
    auth = world.auth(email="alice@example.com", password=PASSWORD, **options)
    client = world.client(auth)
    assert (await client.get(PROTECTED)).status_code == 200
    world.recorder.clear()
    return auth, client


async def test_signs_in_on_the_first_request_then_calls_a_protected_route(world: World) -> None:
    user_id = await world.sign_up()
    auth = world.auth(email="alice@example.com", password=PASSWORD)
    assert not auth.signed_in
    async with world.client(auth) as client:
        response = await client.get(PROTECTED)
        assert response.status_code == 200
        assert response.json()["userId"] == user_id
        assert auth.signed_in and auth.user_id == user_id
        assert (await client.post(PROTECTED)).status_code == 200
    [sign_in, first, second] = world.recorder.calls
    assert (sign_in.path, sign_in.status) == (SIGNIN, 200)
    assert first.authorization is not None and first.authorization.startswith("Bearer ")
    assert second.path == PROTECTED


async def test_explicit_sign_in_returns_the_user(world: World) -> None:
    user_id = await world.sign_up()
    auth = world.auth(email="alice@example.com", password=PASSWORD)
    async with world.client(auth) as client:
        user = await auth.asign_in(client)
        assert user["id"] == user_id and user["emails"] == ["alice@example.com"]
        assert (await client.get(PROTECTED)).status_code == 200
    assert world.recorder.paths() == [(SIGNIN, 200), (PROTECTED, 200)]
    assert auth.access_token_payload is not None
    assert auth.access_token_payload["sub"] == user_id


async def test_renews_before_expiry_so_the_request_never_sees_a_401(world: World) -> None:
    _, client = await signed_in(world)
    world.advance(seconds=HOUR - 20)  # within the 30 s margin, still valid on the server
    response = await client.get(PROTECTED)
    assert response.status_code == 200
    assert world.recorder.paths() == [(REFRESH, 200), (PROTECTED, 200)]
    # The renewed token is fresh: nothing more to do on the next request.
    world.recorder.clear()
    assert (await client.get(PROTECTED)).status_code == 200
    assert world.recorder.paths() == [(PROTECTED, 200)]


async def test_renews_after_a_session_expired_answer_and_retries_once(world: World) -> None:
    _, client = await signed_in(world)
    world.server_clock.advance(seconds=HOUR + 5)  # the client believes its token is fresh
    response = await client.post(PROTECTED, json={"n": 1})
    assert response.status_code == 200
    assert world.recorder.paths() == [(PROTECTED, 401), (REFRESH, 200), (PROTECTED, 200)]
    first, _, retry = world.recorder.calls
    assert retry.authorization != first.authorization
    assert retry.body == first.body == b'{"n":1}'


async def test_renewal_carries_the_protocol_headers(world: World) -> None:
    _, client = await signed_in(world)
    world.advance(seconds=HOUR)
    refreshes: list[httpx.Request] = []

    async def keep(request: httpx.Request) -> None:
        if request.url.path == REFRESH:
            refreshes.append(request)

    client.event_hooks["request"] = [keep]
    await client.get(PROTECTED)
    [refresh] = refreshes
    assert refresh.headers["rid"] == "session"
    assert refresh.headers["fdi-version"] == "4.1"
    assert refresh.headers["st-auth-mode"] == "header"
    assert refresh.headers["authorization"].startswith("Bearer ")


async def test_a_refused_retry_is_returned_not_refreshed_again(world: World) -> None:
    _, client = await signed_in(world)
    world.recorder.faults[PROTECTED] = [session_expired, session_expired]
    response = await client.get(PROTECTED)
    assert response.status_code == 401
    assert world.recorder.paths() == [(PROTECTED, 401), (REFRESH, 200), (PROTECTED, 401)]


async def test_a_request_refused_after_an_early_renewal_is_not_renewed_again(
    world: World,
) -> None:
    _, client = await signed_in(world)
    world.advance(seconds=HOUR - 20)
    world.recorder.faults[PROTECTED] = [session_expired]
    assert (await client.get(PROTECTED)).status_code == 401
    assert world.recorder.paths() == [(REFRESH, 200), (PROTECTED, 401)]


async def test_clock_skew_client_behind_still_renews_in_time(world: World) -> None:
    world.client_clock.advance(hours=-1)  # the client's clock is an hour slow
    _, client = await signed_in(world)
    world.advance(seconds=HOUR - 20)
    assert (await client.get(PROTECTED)).status_code == 200
    assert world.recorder.paths() == [(REFRESH, 200), (PROTECTED, 200)]


async def test_clock_skew_client_ahead_does_not_renew_fresh_tokens(world: World) -> None:
    world.client_clock.advance(hours=2)  # two hours fast: raw `ate` would look long past
    _, client = await signed_in(world)
    world.advance(seconds=HOUR / 2)
    assert (await client.get(PROTECTED)).status_code == 200
    assert world.recorder.paths() == [(PROTECTED, 200)]


async def test_the_margin_is_at_most_half_the_token_lifetime(short_lived: World) -> None:
    # 40 s tokens: a 30 s margin would renew after 10 s; half the lifetime (20 s) applies.
    _, client = await signed_in(short_lived)
    short_lived.advance(seconds=15)
    assert (await client.get(PROTECTED)).status_code == 200
    assert short_lived.recorder.count(REFRESH) == 0
    short_lived.advance(seconds=6)
    assert (await client.get(PROTECTED)).status_code == 200
    assert short_lived.recorder.paths() == [(PROTECTED, 200), (REFRESH, 200), (PROTECTED, 200)]


async def test_a_smaller_configured_margin_is_respected(world: World) -> None:
    _, client = await signed_in(world, renew_before=5)
    world.advance(seconds=HOUR - 20)
    assert (await client.get(PROTECTED)).status_code == 200
    assert world.recorder.count(REFRESH) == 0


async def test_concurrent_requests_after_expiry_share_one_refresh(world: World) -> None:
    _, client = await signed_in(world)
    world.server_clock.advance(seconds=HOUR + 5)  # reactive: every request first gets a 401
    responses = await asyncio.gather(*(client.get(PROTECTED) for _ in range(20)))
    assert [r.status_code for r in responses] == [200] * 20
    assert world.recorder.count(REFRESH) == 1


async def test_concurrent_requests_near_expiry_share_one_refresh(world: World) -> None:
    _, client = await signed_in(world)
    world.advance(seconds=HOUR - 10)  # proactive: every request wants to renew first
    responses = await asyncio.gather(*(client.post(PROTECTED) for _ in range(20)))
    assert [r.status_code for r in responses] == [200] * 20
    assert world.recorder.count(REFRESH) == 1
    assert all(status == 200 for _, status in world.recorder.paths())


async def test_concurrent_first_requests_sign_in_once(world: World) -> None:
    await world.sign_up()
    auth = world.auth(email="alice@example.com", password=PASSWORD)
    client = world.client(auth)
    responses = await asyncio.gather(*(client.get(PROTECTED) for _ in range(10)))
    assert [r.status_code for r in responses] == [200] * 10
    assert world.recorder.count(SIGNIN) == 1


async def test_the_server_replacing_the_access_token_is_picked_up(world: World) -> None:
    # After a refresh the first call promotes the new refresh token and returns a replacement
    # access token; later calls must use that one (they need no database visit).
    _, client = await signed_in(world)
    world.advance(seconds=HOUR)
    await client.get(PROTECTED)
    await client.get(PROTECTED)
    _, promoting, later = world.recorder.calls
    assert promoting.issued_access is not None
    assert later.authorization == f"Bearer {promoting.issued_access}"
