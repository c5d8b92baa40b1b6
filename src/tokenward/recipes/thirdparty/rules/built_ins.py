"""SuperTokens' built-in providers: what each fills in when a configuration leaves it unset
(endpoints, scopes, where the user is in its answers) and what each does differently (Apple's
signed secret, Google Workspaces' hosted domain, GitHub's and Bitbucket's email lists,
Twitter's Basic-auth code exchange)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class UserFields:
    """Where the user id, email and email-verified flag are in a provider's answer (dotted
    paths, as SuperTokens' ``userInfoMap``)."""

    user_id: str | None = None
    email: str | None = None
    email_verified: str | None = None


OIDC_FIELDS = UserFields("sub", "email", "email_verified")


@dataclass(frozen=True, slots=True)
class BuiltIn:
    """What a built-in provider fills in when the configuration leaves it unset."""

    name: str
    scope: tuple[str, ...]
    discovery: str | None = None
    """An issuer (``/.well-known/openid-configuration`` is appended) or None: OAuth 2.0 only."""
    authorization_endpoint: str | None = None
    token_endpoint: str | None = None
    user_info_endpoint: str | None = None
    from_user_info: UserFields = OIDC_FIELDS
    authorization_params: Mapping[str, str] = field(default_factory=dict)
    user_info_headers: Mapping[str, str] = field(default_factory=dict)
    user_info_params: Mapping[str, str] = field(default_factory=dict)
    user_emails_path: str | None = None
    """Appended to the user-info endpoint (the built-in one or the configuration's, as for
    GitHub Enterprise) to list the user's emails (``Provider.user_emails_endpoint``)."""
    user_emails_key: str | None = None
    """Where the list is in the emails answer (Bitbucket's ``values``); None: it is the answer."""
    require_email: bool = True
    force_pkce: bool = False
    token_basic_auth: bool = False
    """The code exchange authenticates the client with HTTP Basic (Twitter), not the form."""
    token_check: str | None = None
    """Which token-check API tells whether an access token is ours (rules/access_tokens.py)."""
    hosted_domain: bool = False
    """Google Workspaces: the client's ``additionalConfig.hd`` goes to Google as ``hd`` and must
    be the ``hd`` of the user's token (``*``: any Workspaces domain)."""


BUILT_IN: Mapping[str, BuiltIn] = {
    "google": BuiltIn(
        "Google",
        ("openid", "email"),
        discovery="https://accounts.google.com",
        authorization_params={"included_grant_scopes": "true", "access_type": "offline"},
        token_check="google",
    ),
    "google-workspaces": BuiltIn(
        "Google Workspaces",
        ("openid", "email"),
        discovery="https://accounts.google.com",
        authorization_params={"included_grant_scopes": "true", "access_type": "offline"},
        hosted_domain=True,
        token_check="google",
    ),
    "apple": BuiltIn(
        "Apple",
        ("openid", "email"),
        discovery="https://appleid.apple.com",
        authorization_params={"response_mode": "form_post"},
    ),
    "active-directory": BuiltIn("Active Directory", ("openid", "email")),
    "okta": BuiltIn("Okta", ("openid", "email")),
    "gitlab": BuiltIn(
        "GitLab", ("openid", "email"), discovery="https://gitlab.com", token_check="gitlab"
    ),
    "linkedin": BuiltIn(
        "LinkedIn",
        ("openid", "profile", "email"),
        authorization_endpoint="https://www.linkedin.com/oauth/v2/authorization",
        token_endpoint="https://www.linkedin.com/oauth/v2/accessToken",
        user_info_endpoint="https://api.linkedin.com/v2/userinfo",
        from_user_info=UserFields("sub", "email", "email_verified"),
    ),
    "github": BuiltIn(
        "GitHub",
        ("read:user", "user:email"),
        authorization_endpoint="https://github.com/login/oauth/authorize",
        token_endpoint="https://github.com/login/oauth/access_token",
        user_info_endpoint="https://api.github.com/user",
        from_user_info=UserFields("id", None, None),
        user_info_headers={"Accept": "application/vnd.github+json"},
        user_emails_path="/emails",
        token_check="github",
    ),
    "bitbucket": BuiltIn(
        "Bitbucket",
        ("account", "email"),
        authorization_endpoint="https://bitbucket.org/site/oauth2/authorize",
        token_endpoint="https://bitbucket.org/site/oauth2/access_token",
        user_info_endpoint="https://api.bitbucket.org/2.0/user",
        from_user_info=UserFields("uuid", None, None),
        user_emails_path="/emails",
        user_emails_key="values",
    ),
    "discord": BuiltIn(
        "Discord",
        ("identify", "email"),
        authorization_endpoint="https://discord.com/oauth2/authorize",
        token_endpoint="https://discord.com/api/oauth2/token",
        user_info_endpoint="https://discord.com/api/users/@me",
        from_user_info=UserFields("id", "email", "verified"),
        token_check="discord",
    ),
    "facebook": BuiltIn(
        "Facebook",
        ("email",),
        authorization_endpoint="https://www.facebook.com/v12.0/dialog/oauth",
        token_endpoint="https://graph.facebook.com/v12.0/oauth/access_token",
        user_info_endpoint="https://graph.facebook.com/me",
        from_user_info=UserFields("id", "email", None),
        user_info_params={"fields": "id,email"},
        token_check="facebook",
    ),
    "twitter": BuiltIn(
        "Twitter",
        ("users.read", "tweet.read"),
        authorization_endpoint="https://twitter.com/i/oauth2/authorize",
        token_endpoint="https://api.twitter.com/2/oauth2/token",
        user_info_endpoint="https://api.twitter.com/2/users/me",
        from_user_info=UserFields("data.id", None, None),
        require_email=False,
        force_pkce=True,
        token_basic_auth=True,
    ),
}
"""SuperTokens' built-in providers, by the ``thirdPartyId`` prefix that selects them (an id like
``google-2`` or ``okta-acme`` is still Google's or Okta's)."""


def built_in_for(third_party_id: str) -> BuiltIn | None:
    for prefix in sorted(BUILT_IN, key=len, reverse=True):
        if third_party_id == prefix or third_party_id.startswith(prefix + "-"):
            return BUILT_IN[prefix]
    return None
