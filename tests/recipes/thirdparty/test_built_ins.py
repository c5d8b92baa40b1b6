"""What some built-in providers do differently, as SuperTokens' SDK providers do it: Google
Workspaces' hosted domain, Bitbucket's email list, Facebook's user-info fields, Twitter's PKCE,
Basic-auth code exchange and missing email. The real hosts are not reachable from the tests, so
each is pointed at a provider served on loopback by overriding its endpoints."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import parse_qs, parse_qsl, urlsplit

import pytest

from tests.support.api import Api, running_api
from tests.support.idp import Answer, FakeProvider, Received
from tests.support.social import authorisation, redirected
from tokenward.recipes.thirdparty.rules.authorisation import authorisation_url
from tokenward.recipes.thirdparty.rules.providers import parse_provider
from tokenward.recipes.thirdparty.rules.user_info import (
    WrongHostedDomain,
    check_hosted_domain,
    primary_email,
)


def workspaces(**extra: Any) -> Any:
    client = {
        "clientId": "g",
        "clientSecret": "s",
        **({"additionalConfig": extra} if extra else {}),
    }
    config = {"thirdPartyId": "google-workspaces", "clients": [client]}
    return parse_provider({**config, "authorizationEndpoint": "https://accounts.google.com/a"})


def test_workspaces_asks_google_for_the_domain_and_checks_it() -> None:
    anyone, acme = workspaces(), workspaces(hd="acme.example")
    for provider, hd in ((anyone, "*"), (acme, "acme.example")):
        url = authorisation_url(provider, provider.clients[0], "https://app.example/cb").url
        assert parse_qs(urlsplit(url).query)["hd"] == [hd]
    check_hosted_domain(anyone, anyone.clients[0], {"sub": "1", "hd": "any.example"}, None)
    for personal in ({"sub": "1"}, {"sub": "1", "hd": ""}, {"sub": "1", "hd": 7}):
        with pytest.raises(WrongHostedDomain):  # a Gmail account has no hd: never Workspaces
            check_hosted_domain(anyone, anyone.clients[0], personal, None)
    check_hosted_domain(acme, acme.clients[0], {"sub": "1", "hd": "acme.example"}, None)
    check_hosted_domain(acme, acme.clients[0], None, {"hd": "acme.example"})
    for claims, info in (({"sub": "1", "hd": "evil.example"}, None), ({"sub": "1"}, None),
                         (None, {"hd": "evil.example"}), (None, None),
                         ({"sub": "1", "hd": "evil.example"}, {"hd": "acme.example"})):  # fmt: skip
        with pytest.raises(WrongHostedDomain):
            check_hosted_domain(acme, acme.clients[0], claims, info)
    google = parse_provider({"thirdPartyId": "google", "clients": [{"clientId": "g"}]})
    check_hosted_domain(google, google.clients[0], {"sub": "1"}, None)  # plain Google: no hd


def test_bitbucket_facebook_and_twitter_defaults() -> None:
    bitbucket = parse_provider({"thirdPartyId": "bitbucket", "clients": [{"clientId": "b"}]})
    assert bitbucket.user_emails_endpoint == "https://api.bitbucket.org/2.0/user/emails"
    assert bitbucket.user_emails_key == "values"
    listed = [{"email": "old@b.example", "is_primary": False, "is_confirmed": True},
              {"email": "Bee@B.example", "is_primary": True, "is_confirmed": False}]  # fmt: skip
    assert primary_email(listed) == ("Bee@B.example", False)
    facebook = parse_provider({"thirdPartyId": "facebook", "clients": [{"clientId": "f"}]})
    assert facebook.user_info_endpoint_query_params == {"fields": "id,email"}
    twitter = parse_provider(
        {"thirdPartyId": "twitter", "clients": [{"clientId": "t", "clientSecret": "s"}]}
    )
    assert twitter.token_basic_auth and not twitter.require_email
    url = authorisation_url(twitter, twitter.clients[0], "https://app.example/cb")
    assert url.pkce_code_verifier is not None, "Twitter wants PKCE even from a client with a secret"


@pytest.fixture(scope="module")
def idp() -> Any:
    with FakeProvider() as server:
        yield server


def twitter_token(received: Received) -> Answer:
    expected = base64.b64encode(b"tw-client:tw-secret").decode()
    form = dict(parse_qsl(received.body.decode()))
    if received.headers.get("Authorization") != f"Basic {expected}" or "client_secret" in form:
        return Answer(status=401, body={"error": "unauthorized_client"})
    if not form.get("code_verifier"):
        return Answer(status=400, body={"error": "invalid_request"})
    return Answer(body={"access_token": "tw-token", "token_type": "bearer"})


@pytest.fixture
async def api(database_url: str, idp: FakeProvider) -> AsyncIterator[Api]:
    idp.handle("/twitter/token", twitter_token)
    idp.answer("/twitter/users/me", Answer(body={"data": {"id": "42", "username": "tw"}}))
    idp.answer("/bb/token", Answer(body={"access_token": "bb-token", "token_type": "bearer"}))
    idp.answer("/bb/2.0/user", Answer(body={"uuid": "{b-1}", "display_name": "Bee"}))
    emails = [{"email": "Bee@B.example", "is_primary": True, "is_confirmed": True}]
    idp.answer("/bb/2.0/user/emails", Answer(body={"values": emails, "pagelen": 10}))

    def endpoints(prefix: str, user: str) -> dict[str, str]:
        return {"authorizationEndpoint": idp.url(f"/{prefix}/authorize"),
                "tokenEndpoint": idp.url(f"/{prefix}/token"),
                "userInfoEndpoint": idp.url(f"/{prefix}{user}")}  # fmt: skip

    providers = [
        {"thirdPartyId": "twitter", **endpoints("twitter", "/users/me"),
         "clients": [{"clientId": "tw-client", "clientSecret": "tw-secret"}]},
        {"thirdPartyId": "bitbucket", **endpoints("bb", "/2.0/user"),
         "clients": [{"clientId": "bb-client", "clientSecret": "bb-secret"}]},
    ]  # fmt: skip
    async with running_api(database_url, thirdparty_providers=providers) as running:
        yield running


async def test_twitter_exchanges_with_basic_auth_and_signs_in_without_an_email(api: Api) -> None:
    url = await authorisation(api, "twitter")
    answer = await redirected(api, "twitter", "tw-code", url["pkceCodeVerifier"])
    body = answer.json()
    assert body["status"] == "OK", body
    assert body["user"]["thirdParty"] == [{"id": "twitter", "userId": "42"}]
    assert body["user"]["emails"] == ["42.twitter@stfakeemail.supertokens.com"]


async def test_bitbucket_reads_the_primary_email_from_its_list(api: Api) -> None:
    await authorisation(api, "bitbucket")
    body = (await redirected(api, "bitbucket", "bb-code")).json()
    assert body["status"] == "OK", body
    assert body["user"]["thirdParty"] == [{"id": "bitbucket", "userId": "{b-1}"}]
    assert body["user"]["emails"] == ["bee@b.example"]
    assert body["user"]["loginMethods"][0]["verified"] is True
