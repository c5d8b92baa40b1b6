"""Access tokens a native app sends (``oAuthTokens``) must have been issued to one of our
clients: otherwise a token another app got from the same user would sign its holder in as that
user. An id token proves it by its audience; a bare access token is asked about at the
provider's token-check API, as SuperTokens' SDKs do (Google ``tokeninfo``, Facebook
``debug_token``, GitLab ``/oauth/token/info``, Discord ``/oauth2/@me``, GitHub
``/applications/<client id>/token``). Other providers' bare access tokens are refused unless the
configuration accepts them unchecked (``acceptUncheckedAccessTokens``).

The requests are described here and sent by the service; the answers are judged here.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from tokenward.recipes.thirdparty.rules.providers import WELL_KNOWN, Client, Provider


class ForeignAccessToken(ValueError):
    """The access token is invalid, or was issued to another application."""


@dataclass(frozen=True, slots=True)
class TokenCheck:
    """One request to a provider's token-check API, and how to read its answer."""

    method: Literal["GET", "POST"]
    url: str
    reader: str
    """Which provider's answer shape (``google``, ``facebook``, …)."""
    params: Mapping[str, str] = field(default_factory=dict, repr=False)
    form: Mapping[str, str] = field(default_factory=dict, repr=False)
    json: Mapping[str, str] = field(default_factory=dict, repr=False)
    headers: Mapping[str, str] = field(default_factory=dict, repr=False)
    basic_auth: tuple[str, str] | None = field(default=None, repr=False)


class NoTokenCheck(ValueError):
    """The provider has no way to check a bare access token (or lacks the secret it needs)."""


def token_check(provider: Provider, client: Client, access_token: str) -> TokenCheck:
    """The request that tells whether ``access_token`` is ours. Raises NoTokenCheck."""
    family = provider.token_check
    bearer = {"Authorization": f"Bearer {access_token}"}
    if family == "google":
        return TokenCheck(
            "POST", "https://oauth2.googleapis.com/tokeninfo", "google",
            form={"access_token": access_token},
        )  # fmt: skip
    if family == "facebook":
        if client.client_secret is None:
            raise NoTokenCheck("Facebook checks access tokens with the client secret")
        return TokenCheck(
            "GET", "https://graph.facebook.com/debug_token", "facebook",
            params={"input_token": access_token,
                    "access_token": f"{client.client_id}|{client.client_secret}"},
        )  # fmt: skip
    if family == "gitlab":
        discovery = provider.oidc_discovery_endpoint or ""
        base = discovery.removesuffix(WELL_KNOWN) if discovery.endswith(WELL_KNOWN) else None
        url = (base or "https://gitlab.com") + "/oauth/token/info"
        return TokenCheck("GET", url, "gitlab", headers=bearer)
    if family == "discord":
        return TokenCheck("GET", "https://discord.com/api/oauth2/@me", "discord", headers=bearer)
    if family == "github":
        if client.client_secret is None:
            raise NoTokenCheck("GitHub checks access tokens with the client secret")
        user_info = provider.user_info_endpoint or "https://api.github.com/user"
        url = user_info.removesuffix("/user") + f"/applications/{client.client_id}/token"
        return TokenCheck(
            "POST", url, "github", json={"access_token": access_token},
            headers={"Accept": "application/vnd.github+json"},
            basic_auth=(client.client_id, client.client_secret),
        )  # fmt: skip
    raise NoTokenCheck(f"{provider.third_party_id} has no API to check access tokens")


def _at(data: Any, *path: str) -> Any:
    for part in path:
        if not isinstance(data, Mapping):
            return None
        data = data.get(part)
    return data


def _one_of(value: Any, client_ids: Collection[str]) -> bool:
    if isinstance(value, bool) or not isinstance(value, str | int):
        return False
    return str(value) in client_ids


def check_answer(reader: str, answer: Mapping[str, Any], client_ids: Collection[str]) -> None:
    """Whether the token-check API's (2xx) answer names one of ``client_ids``. Raises
    ForeignAccessToken."""
    if reader == "google":
        ours = _one_of(answer.get("aud"), client_ids) or _one_of(answer.get("azp"), client_ids)
    elif reader == "facebook":
        ours = _at(answer, "data", "is_valid") is True and _one_of(
            _at(answer, "data", "app_id"), client_ids
        )
    elif reader == "gitlab":
        ours = _one_of(_at(answer, "application", "uid"), client_ids)
    elif reader == "discord":
        ours = _one_of(_at(answer, "application", "id"), client_ids)
    elif reader == "github":
        ours = _one_of(_at(answer, "app", "client_id"), client_ids)
    else:
        raise ValueError(f"no reader {reader!r}")
    if not ours:
        raise ForeignAccessToken("the access token was not issued to this application")
