"""The token file: owner-only from the first byte, reused across runs without signing in
again, kept in step with renewals, removed on sign-out and expiry."""

from __future__ import annotations

import json
import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.client.conftest import World
from tests.client.support import PASSWORD, PROTECTED, REFRESH, SIGNIN, SIGNOUT, unavailable
from tests.client.test_renewal import HOUR, signed_in
from tests.support.api import API
from tokenward.client import AuthUnavailable


@pytest.fixture
def permissive_umask() -> Iterator[None]:
    """umask 0: a file created without an explicit mode would be world-readable."""
    previous = os.umask(0)
    yield
    os.umask(previous)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


async def test_the_token_file_is_private_and_reused_without_signing_in_again(
    world: World, tmp_path: Path, permissive_umask: None
) -> None:
    (tmp_path / "cli").mkdir()
    token_file = tmp_path / "cli" / "tokens.json"
    first, _ = await signed_in(world, token_file=token_file)
    assert mode(token_file) == 0o600
    stored = token_file.read_text()
    assert PASSWORD not in stored
    assert json.loads(stored)["api_domain"] == API

    # A later run: no credentials at all, the file is enough.
    later = world.auth(token_file=token_file)
    assert later.signed_in and later.user_id == first.user_id
    async with world.client(later) as client:
        assert (await client.get(PROTECTED)).status_code == 200
        assert world.recorder.count(SIGNIN) == 0

        world.advance(seconds=HOUR)
        assert (await client.get(PROTECTED)).status_code == 200
        assert token_file.read_text() != stored  # renewed tokens were written back
        assert mode(token_file) == 0o600
        assert [p.name for p in token_file.parent.iterdir()] == [
            "tokens.json"
        ]  # no temp files left

        await later.asign_out(client)
    assert not token_file.exists()
    assert not later.signed_in
    assert world.recorder.paths()[-1] == (SIGNOUT, 200)
    # The session is gone on the server too: the old tokens cannot be renewed.
    refresh = json.loads(stored)["refresh_token"]
    answer = await world.api.client.post(REFRESH, headers={"authorization": f"Bearer {refresh}"})
    assert answer.status_code == 401


async def test_the_token_file_is_removed_when_the_session_expires(
    world: World, tmp_path: Path
) -> None:
    token_file = tmp_path / "tokens.json"
    _, client = await signed_in(world, token_file=token_file)
    await client.post(SIGNOUT, headers={"rid": "session"})  # signed out by a plain request
    assert not token_file.exists()


async def test_sign_out_while_the_server_is_down_keeps_the_tokens(
    world: World, tmp_path: Path
) -> None:
    token_file = tmp_path / "tokens.json"
    auth, client = await signed_in(world, token_file=token_file)
    world.recorder.faults[SIGNOUT] = [unavailable]
    with pytest.raises(AuthUnavailable):
        await auth.asign_out(client)
    assert auth.signed_in and token_file.exists()
    await auth.asign_out(client)
    assert not auth.signed_in and not token_file.exists()


async def test_sign_out_of_an_ended_session_just_forgets_it(world: World, tmp_path: Path) -> None:
    token_file = tmp_path / "tokens.json"
    expired: list[object] = []
    auth, client = await signed_in(world, token_file=token_file, on_session_expired=expired.append)
    handle = (await client.get(PROTECTED)).json()["handle"]
    await world.api.runtime.services.sessions.revoke([handle])
    world.advance(seconds=HOUR + 5)
    await auth.asign_out(client)
    assert not auth.signed_in and not token_file.exists()
    assert expired == []  # signing out is not an expiry


@pytest.mark.parametrize(
    "content",
    ["not json", "{}", json.dumps({"version": 1, "api_domain": "https://elsewhere.example"})],
)
async def test_an_unusable_token_file_is_ignored_and_replaced(
    world: World, tmp_path: Path, content: str
) -> None:
    token_file = tmp_path / "tokens.json"
    token_file.write_text(content)
    await world.sign_up()
    auth = world.auth(email="alice@example.com", password=PASSWORD, token_file=token_file)
    assert not auth.signed_in
    async with world.client(auth) as client:
        assert (await client.get(PROTECTED)).status_code == 200
    assert json.loads(token_file.read_text())["api_domain"] == API
