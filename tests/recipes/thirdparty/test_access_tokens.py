"""A native app's bare access token must have been issued to one of our clients: the request
each provider's token-check API takes, and how its answer is judged (the shapes SuperTokens'
SDKs read); and an id token and user info that name different users."""

from __future__ import annotations

import base64
from typing import Any

import pytest

from tokenward.recipes.thirdparty.rules.access_tokens import (
    ForeignAccessToken,
    NoTokenCheck,
    check_answer,
    token_check,
)
from tokenward.recipes.thirdparty.rules.providers import parse_provider
from tokenward.recipes.thirdparty.rules.user_info import NoUserId, provider_user

OURS = {"web-id", "ios-id"}


def provider(third_party_id: str, secret: str | None = "s3cret", **extra: Any) -> Any:
    client = {"clientId": "web-id", **({"clientSecret": secret} if secret else {})}
    config = {"thirdPartyId": third_party_id, "clients": [client], **extra}
    if "authorizationEndpoint" not in extra and "oidcDiscoveryEndpoint" not in extra:
        config["oidcDiscoveryEndpoint"] = "https://idp.example/.well-known/openid-configuration"
    return parse_provider(config)


def test_google_asks_tokeninfo_with_the_token_in_the_form() -> None:
    google = provider("google")
    check = token_check(google, google.clients[0], "ya29.token")
    assert (check.method, check.url) == ("POST", "https://oauth2.googleapis.com/tokeninfo")
    assert check.form == {"access_token": "ya29.token"} and "ya29" not in repr(check)
    check_answer("google", {"aud": "web-id"}, OURS)
    check_answer("google", {"aud": "other", "azp": "ios-id"}, OURS)  # another client of ours
    with pytest.raises(ForeignAccessToken):
        check_answer("google", {"aud": "someone-else", "azp": "someone-else"}, OURS)


def test_facebook_needs_the_secret_and_a_valid_token_of_our_app() -> None:
    facebook = provider("facebook")
    check = token_check(facebook, facebook.clients[0], "EAAB")
    assert check.params == {"input_token": "EAAB", "access_token": "web-id|s3cret"}
    check_answer("facebook", {"data": {"is_valid": True, "app_id": "web-id"}}, OURS)
    for data in ({"is_valid": False, "app_id": "web-id"}, {"is_valid": True, "app_id": "x"}, {}):
        with pytest.raises(ForeignAccessToken):
            check_answer("facebook", {"data": data}, OURS)
    public = provider("facebook", secret=None)
    with pytest.raises(NoTokenCheck):
        token_check(public, public.clients[0], "EAAB")


def test_gitlab_asks_its_own_instance() -> None:
    gitlab = provider(
        "gitlab-acme",
        oidcDiscoveryEndpoint="https://git.acme.example/.well-known/openid-configuration",
    )
    check = token_check(gitlab, gitlab.clients[0], "glpat")
    assert check.url == "https://git.acme.example/oauth/token/info"
    assert check.headers == {"Authorization": "Bearer glpat"}
    check_answer("gitlab", {"application": {"uid": "web-id"}}, OURS)
    with pytest.raises(ForeignAccessToken):
        check_answer("gitlab", {"application": None}, OURS)


def test_discord_and_numeric_ids() -> None:
    discord = provider("discord")
    assert token_check(discord, discord.clients[0], "t").url.endswith("/oauth2/@me")
    check_answer("discord", {"application": {"id": 1234}}, {"1234"})
    with pytest.raises(ForeignAccessToken):
        check_answer("discord", {"application": {"id": True}}, {"True", "1"})


def test_github_checks_with_basic_auth_at_its_api_or_the_enterprise_one() -> None:
    github = provider("github")
    check = token_check(github, github.clients[0], "gho_x")
    assert check.url == "https://api.github.com/applications/web-id/token"
    assert check.basic_auth == ("web-id", "s3cret") and check.json == {"access_token": "gho_x"}
    enterprise = provider(
        "github-acme",
        authorizationEndpoint="https://ghe.example/login/oauth/authorize",
        tokenEndpoint="https://ghe.example/login/oauth/access_token",
        userInfoEndpoint="https://ghe.example/api/v3/user",
    )
    assert token_check(enterprise, enterprise.clients[0], "t").url == (
        "https://ghe.example/api/v3/applications/web-id/token"
    )
    check_answer("github", {"app": {"client_id": "web-id"}}, OURS)
    with pytest.raises(ForeignAccessToken):
        check_answer("github", {"app": {"client_id": "another-app"}}, OURS)


@pytest.mark.parametrize("third_party_id", ["acme", "apple", "linkedin", "okta-x", "twitter"])
def test_providers_without_a_check_api_have_none(third_party_id: str) -> None:
    extra = {"authorizationEndpoint": "https://a.example/a", "tokenEndpoint": "https://a.example/t"}
    if third_party_id == "apple":
        extra = {}
    some = provider(third_party_id, **extra)
    with pytest.raises(NoTokenCheck):
        token_check(some, some.clients[0], "t")


def test_an_id_token_and_user_info_of_different_users_are_refused() -> None:
    oidc = provider("acme", userInfoEndpoint="https://idp.example/userinfo")
    same = provider_user(oidc, id_token_claims={"sub": "u1"}, user_info={"sub": "u1"})
    assert same.user_id == "u1"
    with pytest.raises(NoUserId, match="disagree"):
        provider_user(oidc, id_token_claims={"sub": "u1"}, user_info={"sub": "victim"})


def test_the_check_request_keeps_the_token_out_of_its_repr() -> None:
    github = provider("github")
    check = token_check(github, github.clients[0], "gho_secret_value")
    shown = repr(check)
    assert "gho_secret_value" not in shown and "s3cret" not in shown
    assert base64.b64encode(b"web-id:s3cret").decode() not in shown
