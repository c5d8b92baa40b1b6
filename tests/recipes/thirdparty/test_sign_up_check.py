"""Invite-only apps: the ``allow_sign_up`` hooks refuse a provider account that has no user yet
(``SIGN_IN_UP_NOT_ALLOWED``, nothing created); an account that has one signs in regardless,
and the hooks are not asked about it. Against the GitHub-shaped provider on loopback."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import httpx
import pytest
from starlette.applications import Starlette

from tests.support.api import FAST_HASHING, Api, assert_nobody_signed_in
from tests.support.clock import FakeClock
from tests.support.github import CLIENT_ID, CLIENT_SECRET, GitHubShaped, GitHubUser, address
from tests.support.social import authorisation, redirected
from tokenward import Auth
from tokenward.config import load_settings
from tokenward.hooks import Hooks, SignUpAttempt
from tokenward.recipes.thirdparty.port import ProviderAccount

asked: list[SignUpAttempt] = []


async def invited_only(attempt: SignUpAttempt) -> bool:
    asked.append(attempt)
    return attempt.email is not None and attempt.email.endswith("@invited.example")


@pytest.fixture(scope="module")
def github() -> Iterator[GitHubShaped]:
    users = [
        GitHubUser(1, "ann", [address("ann@invited.example")]),
        GitHubUser(2, "bob", [address("bob@elsewhere.example")]),
    ]
    with GitHubShaped(users) as server:
        yield server


@pytest.fixture
async def api(database_url: str, github: GitHubShaped) -> AsyncIterator[Api]:
    asked.clear()
    client = {"clientId": CLIENT_ID, "clientSecret": CLIENT_SECRET}
    provider = {"thirdPartyId": "github", **github.endpoints(), "clients": [client]}
    overrides = {"database_url": database_url, "thirdparty_providers": [provider], **FAST_HASHING}
    clock = FakeClock()
    auth = Auth(load_settings(overrides=overrides), clock=clock,
                hooks=Hooks(allow_sign_up=[invited_only]))  # fmt: skip
    app = Starlette()
    app.state.auth = auth
    auth.install(app)
    async with auth.lifespan():
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://localhost:3567") as c:
            yield Api(c, app, clock)


async def log_in(api: Api, github: GitHubShaped, login: str) -> httpx.Response:
    url = await authorisation(api, "github")
    return await redirected(api, "github", github.consent(url["urlWithQueryParams"], login))


async def test_an_uninvited_provider_account_is_refused_and_nothing_is_created(
    api: Api, github: GitHubShaped
) -> None:
    refused = await log_in(api, github, "bob")
    body = refused.json()
    assert body["status"] == "SIGN_IN_UP_NOT_ALLOWED" and "ERR_CODE_006" in body["reason"]
    assert asked == [SignUpAttempt("thirdparty", "public", "bob@elsewhere.example", None, "github")]
    await assert_nobody_signed_in(api, refused)


async def test_an_invited_one_signs_up_then_signs_in_without_asking_again(
    api: Api, github: GitHubShaped
) -> None:
    first = (await log_in(api, github, "ann")).json()
    assert first["status"] == "OK" and first["createdNewRecipeUser"] is True
    asked.clear()
    again = (await log_in(api, github, "ann")).json()
    assert again["status"] == "OK" and again["user"]["id"] == first["user"]["id"]
    assert asked == [], "a returning user is not asked about"


async def test_an_account_made_before_the_rule_still_signs_in(
    api: Api, github: GitHubShaped
) -> None:
    """An account created through the core API (no hooks there) is an existing user."""
    await api.runtime.stores.thirdparty.sign_in_up(
        "public",
        ProviderAccount("github", "2", "bob@elsewhere.example", True),
        new_user_id="bob-user",
        now=api.clock.now_ms(),
    )
    done = (await log_in(api, github, "bob")).json()
    assert done["status"] == "OK" and done["user"]["id"] == "bob-user", done
    assert asked == []
