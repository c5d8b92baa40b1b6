"""When the session cannot be kept: revoked or stolen sessions end in ``SessionExpired`` (once,
with the callback, never a loop), refused credentials in ``SignInFailed``, and an auth server
that is down or unreachable in a retryable error that keeps the tokens."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from tests.client.conftest import World
from tests.client.support import (
    PASSWORD,
    PROTECTED,
    REFRESH,
    SIGNIN,
    network_down,
    unavailable,
)
from tests.client.test_renewal import HOUR, signed_in
from tokenward.client import AuthUnavailable, SessionExpired, SignInFailed


async def revoke_current_session(world: World, client: httpx.AsyncClient) -> None:
    handle = (await client.get(PROTECTED)).json()["handle"]
    await world.api.runtime.services.sessions.revoke([handle])
    world.recorder.clear()


async def test_revoked_session_raises_session_expired_and_calls_back_once(world: World) -> None:
    expired: list[SessionExpired] = []
    auth, client = await signed_in(world, on_session_expired=expired.append)
    await revoke_current_session(world, client)
    world.server_clock.advance(seconds=HOUR + 5)
    with pytest.raises(SessionExpired) as raised:
        await client.get(PROTECTED)
    assert raised.value.reason == "unauthorised"
    assert expired == [raised.value]
    assert world.recorder.paths() == [(PROTECTED, 401), (REFRESH, 401)]
    assert not auth.signed_in


async def test_after_expiry_without_credentials_requests_go_out_unauthenticated(
    world: World, tmp_path: Path
) -> None:
    # Signed in once (say by a CLI's login command); later runs only have the token file.
    token_file = tmp_path / "tokens.json"
    _, first = await signed_in(world, token_file=token_file)
    await revoke_current_session(world, first)
    expired: list[SessionExpired] = []
    auth = world.auth(token_file=token_file, on_session_expired=expired.append)
    client = world.client(auth)
    world.advance(seconds=HOUR + 5)
    with pytest.raises(SessionExpired):
        await client.get(PROTECTED)
    assert world.recorder.count(REFRESH) == 1
    world.recorder.clear()
    response = await client.get(PROTECTED)  # nothing to renew: the 401 is the answer
    assert response.status_code == 401
    assert world.recorder.paths() == [(PROTECTED, 401)]
    assert world.recorder.calls[0].authorization is None
    assert len(expired) == 1


async def test_after_expiry_with_credentials_the_next_request_signs_in_again(
    world: World,
) -> None:
    _, client = await signed_in(world)
    await revoke_current_session(world, client)
    world.server_clock.advance(seconds=HOUR + 5)
    with pytest.raises(SessionExpired):
        await client.get(PROTECTED)
    world.recorder.clear()
    assert (await client.get(PROTECTED)).status_code == 200
    assert world.recorder.paths() == [(SIGNIN, 200), (PROTECTED, 200)]


async def test_a_database_checked_route_ends_the_session_without_a_refresh(world: World) -> None:
    expired: list[SessionExpired] = []
    auth, client = await signed_in(world, on_session_expired=expired.append)
    await revoke_current_session(world, client)
    with pytest.raises(SessionExpired):
        await client.get(PROTECTED, params={"check_database": "1"})
    assert world.recorder.paths() == [(PROTECTED, 401)]
    assert len(expired) == 1 and not auth.signed_in


async def test_a_stolen_refresh_token_signs_out_thief_and_victim(
    world: World, tmp_path: Path
) -> None:
    token_file = tmp_path / "tokens.json"
    victim, victim_client = await signed_in(world, token_file=token_file)
    thief = world.auth(token_file=token_file)  # a copy of the victim's tokens
    thief_client = world.client(thief)
    world.advance(seconds=HOUR - 10)
    assert (await victim_client.get(PROTECTED)).status_code == 200  # renews, and uses it
    with pytest.raises(SessionExpired) as raised:
        await thief_client.get(PROTECTED)  # renews with the now-superseded token
    assert raised.value.reason == "token theft detected"
    world.advance(seconds=HOUR)
    with pytest.raises(SessionExpired):
        await victim_client.get(PROTECTED)
    assert not victim.signed_in and not thief.signed_in


async def test_wrong_credentials_raise_sign_in_failed(world: World) -> None:
    await world.sign_up()
    auth = world.auth(email="alice@example.com", password="not the password")
    async with world.client(auth) as client:
        with pytest.raises(SignInFailed) as lazily:
            await client.get(PROTECTED)
        with pytest.raises(SignInFailed) as explicitly:
            await auth.asign_in(client)
    assert lazily.value.status == explicitly.value.status == "WRONG_CREDENTIALS_ERROR"
    assert str(lazily.value) == "wrong email or password"
    assert not auth.signed_in
    assert world.recorder.paths() == [(SIGNIN, 200), (SIGNIN, 200)]  # no protected call


async def test_a_malformed_email_is_a_field_error(world: World) -> None:
    auth = world.auth(email="not-an-email", password=PASSWORD)
    async with world.client(auth) as client:
        with pytest.raises(SignInFailed) as raised:
            await auth.asign_in(client)
    assert raised.value.status == "FIELD_ERROR"
    assert set(raised.value.field_errors) == {"email"}


async def test_refresh_answering_503_is_retryable_and_keeps_the_tokens(world: World) -> None:
    expired: list[SessionExpired] = []
    auth, client = await signed_in(world, on_session_expired=expired.append)
    world.server_clock.advance(seconds=HOUR + 5)
    world.recorder.faults[REFRESH] = [unavailable]
    with pytest.raises(AuthUnavailable) as raised:
        await client.get(PROTECTED)
    assert (raised.value.status_code, raised.value.retry_after) == (503, 7.0)
    assert auth.signed_in and expired == []
    # Retrying later works with the very same refresh token.
    assert (await client.get(PROTECTED)).status_code == 200
    failed, succeeded = (c for c in world.recorder.calls if c.path == REFRESH)
    assert (failed.status, succeeded.status) == (503, 200)
    assert failed.authorization == succeeded.authorization


async def test_an_unreachable_refresh_keeps_the_tokens(world: World) -> None:
    auth, client = await signed_in(world)
    world.server_clock.advance(seconds=HOUR + 5)
    world.recorder.faults[REFRESH] = [network_down]
    with pytest.raises(httpx.ConnectError):
        await client.get(PROTECTED)
    assert auth.signed_in
    assert (await client.get(PROTECTED)).status_code == 200


async def test_a_failed_early_renewal_still_uses_the_valid_token(world: World) -> None:
    _, client = await signed_in(world)
    world.advance(seconds=HOUR - 20)  # due for renewal, but valid for 20 s more
    world.recorder.faults[REFRESH] = [unavailable]
    assert (await client.get(PROTECTED)).status_code == 200
    assert (await client.get(PROTECTED)).status_code == 200  # tries again, succeeds
    assert world.recorder.paths() == [
        (REFRESH, 503),
        (PROTECTED, 200),
        (REFRESH, 200),
        (PROTECTED, 200),
    ]


async def test_sign_in_answering_503_is_retryable(world: World) -> None:
    await world.sign_up()
    auth = world.auth(email="alice@example.com", password=PASSWORD)
    world.recorder.faults[SIGNIN] = [unavailable]
    async with world.client(auth) as client:
        with pytest.raises(AuthUnavailable):
            await client.get(PROTECTED)
        assert (await client.get(PROTECTED)).status_code == 200
