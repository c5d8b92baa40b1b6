"""Plain OAuth 2.0 providers (no OpenID: no id token, no discovery) over the frontend API, on
SQLite and PostgreSQL, against providers served by the test on loopback:

- the built-in ``github`` with its endpoints pointed at a GitHub-shaped server
  (tests/support/github.py), which checks the code, the client's credentials and the redirect
  URI: the user id is GitHub's number, the email and its verified flag the primary address of
  ``/user/emails``;
- a custom provider on the same server, read through ``userInfoMap`` alone;
- a custom provider whose user info is nested (dotted paths);

and what the user sees when such a provider fails: never a 500, never a session."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from tests.support.api import Api, assert_nobody_signed_in, front, running_api
from tests.support.github import (
    CLIENT_ID,
    CLIENT_SECRET,
    EMAILS,
    TOKEN,
    TOKEN_CHECK,
    USER,
    GitHubShaped,
    GitHubUser,
    address,
)
from tests.support.idp import Answer, FakeProvider
from tests.support.social import CALLBACK, authorisation, redirected, sign_in_up
from tokenward.recipes.thirdparty.fdi import PROVIDER_DOWN, PROVIDER_REFUSED

OCTO = GitHubUser(12345, "octo", [address("old@example.com", primary=False),
                                  address("Octo@Example.com")])  # fmt: skip
MONA = GitHubUser(583231, "mona", [address("mona@example.com", verified=False)],
                  public_email="mona@public.example")  # fmt: skip
GHOST = GitHubUser(10137, "ghost")  # no email at all


@pytest.fixture(scope="module")
def github() -> Iterator[GitHubShaped]:
    with GitHubShaped([OCTO, MONA, GHOST]) as server:
        yield server


@pytest.fixture(scope="module")
def nested() -> Iterator[FakeProvider]:
    """A provider whose user info is nested: ``{"data": {"id", "contact": {...}}}``."""
    with FakeProvider() as idp:
        idp.answer("/token", Answer(body={"access_token": "nested-token", "token_type": "bearer"}))
        contact = {"mail": "Nested@Example.com", "confirmed": "true"}
        idp.answer("/me", Answer(body={"data": {"id": 7, "contact": contact}}))
        yield idp


def providers(github: GitHubShaped, nested: FakeProvider) -> list[dict[str, Any]]:
    client = {"clientId": CLIENT_ID, "clientSecret": CLIENT_SECRET}
    configs: list[dict[str, Any]] = [
        {"thirdPartyId": "github", **github.endpoints(), "clients": [client]},
        {
            "thirdPartyId": "octo-oauth",
            "name": "Octo OAuth",
            **github.endpoints(),
            "userInfoMap": {"fromUserInfoAPI": {"userId": "id", "email": "email"}},
            "requireEmail": False,
            "clients": [{**client, "scope": ["read:user"]}],
        },
        {
            "thirdPartyId": "nested",
            "authorizationEndpoint": nested.url("/authorize"),
            "tokenEndpoint": nested.url("/token"),
            "userInfoEndpoint": nested.url("/me"),
            "userInfoMap": {
                "fromUserInfoAPI": {
                    "userId": "data.id",
                    "email": "data.contact.mail",
                    "emailVerified": "data.contact.confirmed",
                }
            },
            "clients": [{"clientId": "nested-client", "clientSecret": "nested-client-secret"}],
        },
    ]
    trusting = {
        **configs[-1],
        "thirdPartyId": "nested-trusting",
        "acceptUncheckedAccessTokens": True,
    }
    return [*configs, trusting]


@pytest.fixture
async def api(database_url: str, github: GitHubShaped, nested: FakeProvider) -> AsyncIterator[Api]:
    async with running_api(database_url, thirdparty_providers=providers(github, nested)) as api:
        yield api


async def log_in(api: Api, github: GitHubShaped, login: str, tp: str = "github") -> Any:
    url = await authorisation(api, tp)
    return await redirected(api, tp, github.consent(url["urlWithQueryParams"], login))


async def test_github_signs_up_then_signs_in_as_the_same_user(
    api: Api, github: GitHubShaped
) -> None:
    url = await authorisation(api, "github")
    query = parse_qs(urlsplit(url["urlWithQueryParams"]).query)
    assert query["scope"] == ["read:user user:email"] and query["redirect_uri"] == [CALLBACK]
    assert "pkceCodeVerifier" not in url, "a client with a secret, as GitHub's OAuth apps"
    first = await redirected(api, "github", github.consent(url["urlWithQueryParams"], "octo"))
    body = first.json()
    assert body["status"] == "OK" and body["createdNewRecipeUser"] is True, body
    user = body["user"]
    assert user["thirdParty"] == [{"id": "github", "userId": "12345"}]
    assert user["emails"] == ["octo@example.com"], "the primary address"
    assert user["loginMethods"][0]["verified"] is True
    assert front(first).user_id == user["id"]
    again = (await log_in(api, github, "octo")).json()
    assert again["status"] == "OK" and again["createdNewRecipeUser"] is False
    assert again["user"]["id"] == user["id"]
    reads = [r for r in github.received if r.path in (USER, EMAILS)]
    assert reads and all(r.headers["Authorization"].startswith("Bearer gho_") for r in reads)
    assert all(r.headers["Accept"] == "application/vnd.github+json" for r in reads)
    tokens = [r for r in github.received if r.path == TOKEN]
    assert tokens and all(r.headers["Accept"] == "application/json" for r in tokens)


async def test_an_unverified_primary_email_is_stored_unverified(
    api: Api, github: GitHubShaped
) -> None:
    body = (await log_in(api, github, "mona")).json()
    assert body["status"] == "OK" and body["user"]["emails"] == ["mona@example.com"]
    assert body["user"]["loginMethods"][0]["verified"] is False


async def test_no_email_from_github_is_no_email_given_by_provider(
    api: Api, github: GitHubShaped
) -> None:
    answer = await log_in(api, github, "ghost")
    assert answer.json() == {"status": "NO_EMAIL_GIVEN_BY_PROVIDER"}
    await assert_nobody_signed_in(api, answer)


async def test_a_bad_or_replayed_code_is_refused(api: Api, github: GitHubShaped) -> None:
    url = await authorisation(api, "github")
    code = github.consent(url["urlWithQueryParams"], "octo")
    wrong = await redirected(api, "github", "not-the-code")
    assert wrong.json() == {"status": "GENERAL_ERROR", "message": PROVIDER_REFUSED}
    await assert_nobody_signed_in(api, wrong)
    assert (await redirected(api, "github", code)).json()["status"] == "OK"
    replay = await redirected(api, "github", code)
    assert replay.json() == {"status": "GENERAL_ERROR", "message": PROVIDER_REFUSED}
    await assert_nobody_signed_in(api, replay, users=1)


@pytest.mark.parametrize("path", [USER, EMAILS])
@pytest.mark.parametrize(
    "failure",
    [
        Answer(status=500, body={"message": "Server Error"}),
        Answer(status=502, body=b"<html><body>Bad gateway</body></html>",
               headers={"Content-Type": "text/html"}),
        Answer(body=b"{not json"),
        Answer(body=b"<!DOCTYPE html><html>GitHub is down</html>",
               headers={"Content-Type": "text/html"}),
    ],
    ids=["500", "502-html", "garbage", "200-html"],
)  # fmt: skip
async def test_user_info_that_fails_is_a_retryable_general_error(
    api: Api, github: GitHubShaped, path: str, failure: Answer
) -> None:
    github.script(path, failure)
    answer = await log_in(api, github, "octo")
    assert answer.json() == {"status": "GENERAL_ERROR", "message": PROVIDER_DOWN}
    await assert_nobody_signed_in(api, answer)
    assert (await log_in(api, github, "octo")).json()["status"] == "OK", "and a retry works"


@pytest.mark.parametrize("path", [USER, EMAILS])
async def test_user_info_that_refuses_the_token_is_refused(
    api: Api, github: GitHubShaped, path: str
) -> None:
    github.script(path, Answer(status=401, body={"message": "Bad credentials"}))
    answer = await log_in(api, github, "octo")
    assert answer.json() == {"status": "GENERAL_ERROR", "message": PROVIDER_REFUSED}
    await assert_nobody_signed_in(api, answer)


async def test_a_native_apps_access_token_is_checked_then_read_the_same_way(
    api: Api, github: GitHubShaped
) -> None:
    checks = github.hits[TOKEN_CHECK]
    first = (await log_in(api, github, "octo")).json()
    assert github.hits[TOKEN_CHECK] == checks  # the redirect's own token needs no check
    token = github.token_of("octo")
    native = (await sign_in_up(api, "github", oAuthTokens={"access_token": token})).json()
    assert native["status"] == "OK" and native["user"]["id"] == first["user"]["id"]
    assert github.hits[TOKEN_CHECK] == checks + 1
    forged = await sign_in_up(api, "github", oAuthTokens={"access_token": "gho_made_up"})
    assert forged.json() == {"status": "GENERAL_ERROR", "message": PROVIDER_REFUSED}
    await assert_nobody_signed_in(api, forged, users=1)


async def test_an_access_token_issued_to_another_app_signs_nobody_in(
    api: Api, github: GitHubShaped
) -> None:
    """The token is good at /user, but GitHub says it is not ours: a malicious app holding a
    user's token must not sign in as them here."""
    await log_in(api, github, "octo")
    reads = github.hits[USER]
    stolen = github.foreign_token("octo")
    answer = await sign_in_up(api, "github", oAuthTokens={"access_token": stolen})
    assert answer.json() == {"status": "GENERAL_ERROR", "message": PROVIDER_REFUSED}
    await assert_nobody_signed_in(api, answer, users=1)
    assert github.hits[USER] == reads  # refused before the user was read


async def test_a_generic_oauth2_provider_reads_github_shaped_user_info_by_its_map(
    api: Api, github: GitHubShaped
) -> None:
    mona = (await log_in(api, github, "mona", tp="octo-oauth")).json()
    assert mona["status"] == "OK", mona
    assert mona["user"]["thirdParty"] == [{"id": "octo-oauth", "userId": "583231"}]
    assert mona["user"]["emails"] == ["mona@public.example"], "/user's email: no emails endpoint"
    assert mona["user"]["loginMethods"][0]["verified"] is False, "no verified flag mapped"
    ghost = (await log_in(api, github, "ghost", tp="octo-oauth")).json()
    assert ghost["user"]["emails"] == ["10137.octo-oauth@stfakeemail.supertokens.com"]
    on_github = (await log_in(api, github, "mona")).json()
    assert on_github["createdNewRecipeUser"] is True, "another provider: another account"
    assert on_github["user"]["id"] != mona["user"]["id"]


async def test_a_generic_oauth2_provider_maps_nested_fields_by_dotted_paths(
    api: Api, nested: FakeProvider
) -> None:
    url = await authorisation(api, "nested")
    assert url["urlWithQueryParams"].startswith(nested.url("/authorize") + "?")
    body = (await redirected(api, "nested", "any-code")).json()
    assert body["status"] == "OK", body
    assert body["user"]["thirdParty"] == [{"id": "nested", "userId": "7"}]
    assert body["user"]["emails"] == ["nested@example.com"]
    assert body["user"]["loginMethods"][0]["verified"] is True
    [token_request] = [r for r in nested.received if r.path == "/token"][-1:]
    form = parse_qs(token_request.body.decode())
    assert form["code"] == ["any-code"] and form["client_secret"] == ["nested-client-secret"]
    assert form["redirect_uri"] == [CALLBACK] and form["grant_type"] == ["authorization_code"]


async def test_a_bare_access_token_no_api_can_check_is_refused_unless_accepted(
    api: Api, nested: FakeProvider
) -> None:
    """Whether a token was issued to us cannot be asked of this provider: by default a native
    app must send an id token (or use the redirect); a configuration may accept the risk."""
    tokens = {"access_token": "nested-token"}
    refused = await sign_in_up(api, "nested", oAuthTokens=tokens)
    assert refused.json() == {"status": "GENERAL_ERROR", "message": PROVIDER_REFUSED}
    await assert_nobody_signed_in(api, refused)
    accepted = (await sign_in_up(api, "nested-trusting", oAuthTokens=tokens)).json()
    assert accepted["status"] == "OK" and accepted["user"]["emails"] == ["nested@example.com"]
