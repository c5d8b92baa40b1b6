"""Third-party rules: provider JSON as SuperTokens writes it, built-in defaults, the
authorisation URL with PKCE, redirect URIs, and the user read from a provider's answers."""

from __future__ import annotations

import base64
import hashlib
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from tokenward.recipes.thirdparty.rules.authorisation import (
    RedirectNotAllowed,
    authorisation_url,
    check_redirect_uri,
    pkce_challenge,
)
from tokenward.recipes.thirdparty.rules.providers import (
    InvalidProviderConfig,
    parse_provider,
    with_discovery,
)
from tokenward.recipes.thirdparty.rules.user_info import (
    EMAILS,
    NoUserId,
    fake_email,
    primary_email,
    provider_user,
)

OIDC: dict[str, Any] = {
    "thirdPartyId": "acme",
    "name": "Acme SSO",
    "clients": [{"clientId": "web-app", "clientSecret": "s3cret", "scope": ["openid", "email"]}],
    "oidcDiscoveryEndpoint": "http://127.0.0.1:9000/.well-known/openid-configuration",
}


def query(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


def test_tp_01_a_custom_oidc_provider_keeps_its_discovery_url_as_given() -> None:
    provider = parse_provider(OIDC)
    assert provider.oidc_discovery_endpoint == OIDC["oidcDiscoveryEndpoint"]
    assert provider.client(None).client_secret == "s3cret"
    assert "s3cret" not in repr(provider), "secrets stay out of reprs (and logs)"
    found = with_discovery(
        provider,
        {
            "authorization_endpoint": "http://127.0.0.1:9000/auth",
            "token_endpoint": "http://127.0.0.1:9000/token",
            "userinfo_endpoint": "http://127.0.0.1:9000/me",
            "jwks_uri": "http://127.0.0.1:9000/jwks",
        },
    )
    assert (found.authorization_endpoint, found.jwks_uri) == (
        "http://127.0.0.1:9000/auth",
        "http://127.0.0.1:9000/jwks",
    )
    configured = with_discovery(
        parse_provider({**OIDC, "tokenEndpoint": "http://127.0.0.1:9000/own"}),
        {"token_endpoint": "http://127.0.0.1:9000/token"},
    )
    assert configured.token_endpoint == "http://127.0.0.1:9000/own", "discovery fills gaps only"


def test_tp_02_built_ins_fill_their_defaults_and_issuers_get_the_well_known_path() -> None:
    google = parse_provider({"thirdPartyId": "google", "clients": [{"clientId": "g"}]})
    assert google.name == "Google" and google.client(None).scope == ("openid", "email")
    assert google.oidc_discovery_endpoint == (
        "https://accounts.google.com/.well-known/openid-configuration"
    )
    github = parse_provider({"thirdPartyId": "github", "clients": [{"clientId": "gh"}]})
    assert github.token_endpoint == "https://github.com/login/oauth/access_token"
    assert github.oidc_discovery_endpoint is None and github.from_user_info.user_id == "id"
    okta = parse_provider(
        {
            "thirdPartyId": "okta-acme",
            "clients": [{"clientId": "o", "additionalConfig": {"oktaDomain": "acme.okta.com"}}],
        }
    )
    assert okta.oidc_discovery_endpoint == (
        "https://acme.okta.com/.well-known/openid-configuration"
    )
    azure = parse_provider(
        {
            "thirdPartyId": "active-directory",
            "clients": [{"clientId": "a", "additionalConfig": {"directoryId": "tenant-1"}}],
        }
    )
    assert azure.oidc_discovery_endpoint == (
        "https://login.microsoftonline.com/tenant-1/v2.0/.well-known/openid-configuration"
    )


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"thirdPartyId": None}, "thirdPartyId is required"),
        ({"clients": []}, "clients must be a non-empty list"),
        ({"clients": [{"clientSecret": "x"}]}, "clientId is required"),
        ({"clients": [{"clientId": "a"}, {"clientId": "b"}]}, "each needs a clientType"),
        (
            {
                "clients": [
                    {"clientId": "a", "clientType": "web"},
                    {"clientId": "b", "clientType": "web"},
                ]
            },
            "same clientType",
        ),
        ({"oidcDiscoveryEndpoint": None}, "give oidcDiscoveryEndpoint"),
        ({"oidcDiscoveryEndpoint": "http://idp.example.com/x"}, "must use https"),
        ({"oidcDiscoveryEndpoint": "javascript:alert(1)"}, "http(s) URL"),
        ({"clients": [{"clientId": "a", "scope": "openid"}]}, "scope must be a list"),
        ({"requireEmail": "yes"}, "requireEmail must be true or false"),
    ],
)
def test_tp_03_bad_configurations_say_which_field(change: dict[str, Any], message: str) -> None:
    with pytest.raises(
        InvalidProviderConfig, match=message.replace("(", r"\(").replace(")", r"\)")
    ):
        parse_provider({**OIDC, **change})


def test_tp_04_clients_are_chosen_by_type() -> None:
    provider = parse_provider(
        {
            **OIDC,
            "clients": [
                {"clientId": "w", "clientType": "web", "clientSecret": "x"},
                {"clientId": "i", "clientType": "ios"},
            ],
        }
    )
    assert provider.client("ios").client_id == "i"
    with pytest.raises(InvalidProviderConfig, match="clientType"):
        provider.client(None)
    with pytest.raises(InvalidProviderConfig, match="android"):
        provider.client("android")


def test_tp_05_pkce_s256_when_there_is_no_secret_or_it_is_forced() -> None:
    endpoints = {"authorizationEndpoint": "https://idp.example.com/authorize?tenant=x",
                 "tokenEndpoint": "https://idp.example.com/token"}  # fmt: skip
    public = parse_provider({**OIDC, **endpoints, "clients": [{"clientId": "spa"}]})
    built = authorisation_url(public, public.client(None), "https://app.example.com/cb")
    params = query(built.url)
    assert built.url.startswith("https://idp.example.com/authorize?tenant=x&")
    assert params["client_id"] == "spa" and params["response_type"] == "code"
    assert params["redirect_uri"] == "https://app.example.com/cb"
    assert params["code_challenge_method"] == "S256" and built.pkce_code_verifier is not None
    digest = hashlib.sha256(built.pkce_code_verifier.encode()).digest()
    assert params["code_challenge"] == base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
    assert params["code_challenge"] == pkce_challenge(built.pkce_code_verifier)
    assert len(built.pkce_code_verifier) == 43 and "state" not in params

    confidential = parse_provider({**OIDC, **endpoints})
    plain = authorisation_url(confidential, confidential.client(None), "https://app/cb")
    assert plain.pkce_code_verifier is None and "code_challenge" not in query(plain.url)
    assert query(plain.url)["scope"] == "openid email"
    forced = parse_provider(
        {
            **OIDC,
            **endpoints,
            "clients": [{"clientId": "c", "clientSecret": "s", "forcePKCE": True}],
        }
    )
    assert authorisation_url(forced, forced.client(None), "https://app/cb").pkce_code_verifier


def test_tp_06_extra_authorisation_params_and_null_removes_a_default() -> None:
    google = parse_provider(
        {
            "thirdPartyId": "google",
            "clients": [{"clientId": "g", "clientSecret": "s"}],
            "authorizationEndpoint": "https://accounts.google.com/o/oauth2/v2/auth",
            "authorizationEndpointQueryParams": {"prompt": "select_account", "access_type": None},
        }
    )
    params = query(authorisation_url(google, google.client(None), "https://app/cb").url)
    assert params["prompt"] == "select_account" and "access_type" not in params
    assert params["included_grant_scopes"] == "true"


@pytest.mark.parametrize(
    "uri",
    [
        "https://app.example.com/auth/callback/google",
        "https://APP.example.com:443/auth/callback/google?x=1",
        "http://localhost:3567/auth/callback/apple",
    ],
)
def test_tp_07_redirect_uris_on_the_website_or_api_origin_pass(uri: str) -> None:
    assert check_redirect_uri(uri, ["https://app.example.com", "http://localhost:3567"]) == uri


@pytest.mark.parametrize(
    "uri",
    [
        "https://evil.example.com/auth/callback/google",
        "https://app.example.com.evil.example/cb",
        "https://app.example.com@evil.example/cb",
        "https://user:pw@app.example.com/cb",
        "http://app.example.com/cb",
        "https://app.example.com:8443/cb",
        "https://app.example.com/cb#fragment",
        "javascript:alert(1)",
        "//evil.example/cb",
        "",
    ],
)
def test_tp_08_redirect_uris_elsewhere_are_refused(uri: str) -> None:
    with pytest.raises(RedirectNotAllowed):
        check_redirect_uri(uri, ["https://app.example.com", "http://localhost:3567"])


def test_tp_09_the_user_from_id_token_and_user_info() -> None:
    oidc = parse_provider(OIDC)
    user = provider_user(
        oidc,
        id_token_claims={"sub": "abc", "email": "Ann@Example.com", "email_verified": True},
        user_info=None,
    )
    assert (user.user_id, user.email, user.email_verified) == ("abc", "ann@example.com", True)
    said_string = provider_user(
        oidc, id_token_claims={"sub": "abc", "email": "a@x.io", "email_verified": "true"},
        user_info=None,
    )  # fmt: skip
    assert said_string.email_verified
    untrusted = parse_provider({**OIDC, "trustEmailVerified": False})
    assert not provider_user(
        untrusted,
        id_token_claims={"sub": "abc", "email": "a@x.io", "email_verified": True},
        user_info=None,
    ).email_verified
    github = parse_provider({"thirdPartyId": "github", "clients": [{"clientId": "gh"}]})
    gh = provider_user(github, id_token_claims=None, user_info={"id": 42, "login": "octo"})
    assert (gh.user_id, gh.email, gh.email_verified) == ("42", None, False)
    twitter = parse_provider({"thirdPartyId": "twitter", "clients": [{"clientId": "t"}]})
    assert (
        provider_user(twitter, id_token_claims=None, user_info={"data": {"id": "9"}}).user_id == "9"
    )
    with pytest.raises(NoUserId):
        provider_user(oidc, id_token_claims={"email": "a@x.io"}, user_info=None)
    assert fake_email("github", "42") == "42.github@stfakeemail.supertokens.com"


def test_tp_10_github_reads_the_primary_email_and_its_verified_flag() -> None:
    github = parse_provider({"thirdPartyId": "github", "clients": [{"clientId": "gh"}]})
    assert github.user_emails_endpoint == "https://api.github.com/user/emails"
    assert github.user_info_endpoint_headers["Accept"] == "application/vnd.github+json"
    emails = [
        {"email": "old@example.com", "primary": False, "verified": True},
        {"email": "Octo@Example.com", "primary": True, "verified": False},
    ]
    info = {"id": 12345, "email": "public@example.com", EMAILS: emails}
    octo = provider_user(github, id_token_claims=None, user_info=info)
    assert (octo.user_id, octo.email, octo.email_verified) == ("12345", "octo@example.com", False)
    emails[1]["verified"] = True
    assert provider_user(github, id_token_claims=None, user_info=info).email_verified
    assert primary_email([{"email": "a@x.io", "primary": "true", "verified": True}]) is None
    assert primary_email("garbage") is None and primary_email([1, None]) is None
    # A custom provider shaped like GitHub has no emails endpoint: the map alone decides, its
    # unset fields taking SuperTokens' defaults (sub, email, email_verified).
    custom = parse_provider({**OIDC, "userInfoMap": {"fromUserInfoAPI": {"userId": "id"}}})
    assert custom.user_emails_endpoint is None
    read = provider_user(custom, id_token_claims=None, user_info=info)
    assert (read.email, read.email_verified) == ("public@example.com", False)


def test_tp_11_github_enterprise_follows_its_own_api() -> None:
    ghe = parse_provider(
        {
            "thirdPartyId": "github-enterprise",
            "authorizationEndpoint": "https://ghe.example/login/oauth/authorize",
            "tokenEndpoint": "https://ghe.example/login/oauth/access_token",
            "userInfoEndpoint": "https://ghe.example/api/v3/user",
            "userInfoEndpointHeaders": {"X-GitHub-Api-Version": "2022-11-28"},
            "clients": [{"clientId": "gh"}],
        }
    )
    assert ghe.name == "GitHub" and ghe.client(None).scope == ("read:user", "user:email")
    assert ghe.user_emails_endpoint == "https://ghe.example/api/v3/user/emails"
    assert ghe.user_info_endpoint_headers == {
        "Accept": "application/vnd.github+json",
        "X-GitHub-Api-Version": "2022-11-28",
    }
    own = parse_provider(
        {
            "thirdPartyId": "github",
            "userEmailsEndpoint": "https://ghe.example/emails",
            "clients": [{"clientId": "gh"}],
        }
    )
    assert own.user_emails_endpoint == "https://ghe.example/emails"
