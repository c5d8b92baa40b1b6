"""Provider configurations, read from SuperTokens' provider JSON (the shape of its core API's
``/recipe/multitenancy/config/thirdparty`` and of supertokens-python's ``ProviderInput``), with
the built-in providers' defaults filled in.

A configuration names endpoints directly, or an OpenID discovery document
(``oidcDiscoveryEndpoint``) that fills the endpoints left unset. As SuperTokens does, a custom
provider's ``oidcDiscoveryEndpoint`` is taken as the full URL of the document; the built-in OpenID
providers take an issuer and get ``/.well-known/openid-configuration`` appended.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any
from urllib.parse import urlsplit

from tokenward.recipes.thirdparty.rules.built_ins import (
    BUILT_IN,
    OIDC_FIELDS,
    BuiltIn,
    UserFields,
    built_in_for,
)
from tokenward.recipes.thirdparty.rules.client_secrets import InvalidSigningKey, SecretSigner

WELL_KNOWN = "/.well-known/openid-configuration"
CLIENT_TYPES = ("web", "ios", "android", "desktop")
"""The client types the official SDKs send; a provider may also name others."""


class InvalidProviderConfig(ValueError):
    """A provider configuration that cannot be used; the message says which field and why."""


@dataclass(frozen=True, slots=True)
class Client:
    client_id: str
    client_secret: str | None = field(default=None, repr=False)
    client_type: str | None = None
    scope: tuple[str, ...] | None = None
    force_pkce: bool = False
    additional_config: Mapping[str, Any] = field(default_factory=dict, repr=False)
    secret_signer: SecretSigner | None = None
    """Signs the client secret for each code exchange (Apple), when none is stored."""

    @property
    def confidential(self) -> bool:
        return self.client_secret is not None or self.secret_signer is not None


@dataclass(frozen=True, slots=True)
class Provider:
    third_party_id: str
    name: str
    clients: tuple[Client, ...]
    authorization_endpoint: str | None = None
    authorization_endpoint_query_params: Mapping[str, str | None] = field(default_factory=dict)
    token_endpoint: str | None = None
    token_endpoint_body_params: Mapping[str, str | None] = field(default_factory=dict)
    user_info_endpoint: str | None = None
    user_info_endpoint_query_params: Mapping[str, str | None] = field(default_factory=dict)
    user_info_endpoint_headers: Mapping[str, str | None] = field(default_factory=dict)
    user_emails_endpoint: str | None = None
    """Where the user's email addresses are listed with their ``primary`` and ``verified`` flags
    (GitHub's ``/user/emails``: its ``/user`` has no verified flag), read with the access token
    and the user-info headers; the primary address wins over the user-info map's."""
    jwks_uri: str | None = None
    oidc_discovery_endpoint: str | None = None
    from_id_token: UserFields = OIDC_FIELDS
    from_user_info: UserFields = UserFields()
    require_email: bool = True
    trust_email_verified: bool = True
    """Whether the provider's ``email_verified`` is believed (an untrusted provider's emails are
    stored as unverified whatever it says)."""
    user_emails_key: str | None = None
    """Where the list is in the user-emails answer; None: the answer is the list."""
    token_basic_auth: bool = False
    """The code exchange authenticates the client with HTTP Basic, not in the form."""
    token_check: str | None = None
    """Which token-check API tells whether an access token is ours (rules/access_tokens.py)."""
    hosted_domain: bool = False
    """Google Workspaces: each client's ``additionalConfig.hd`` is asked for and checked."""
    accept_unchecked_access_tokens: bool = False
    """Whether a native app's bare access token is used though the provider has no API to tell
    whether it was issued to us (rules/access_tokens.py)."""

    def client(self, client_type: str | None) -> Client:
        """The client for ``client_type`` (the only client when there is one and no type is
        asked for). Raises InvalidProviderConfig when none matches."""
        if client_type is None:
            if len(self.clients) == 1:
                return self.clients[0]
            raise InvalidProviderConfig(
                f"{self.third_party_id}: several clients are configured; the request must name "
                "its clientType"
            )
        for client in self.clients:
            if client.client_type == client_type:
                return client
        raise InvalidProviderConfig(f"{self.third_party_id}: no client of type {client_type!r}")


def with_overrides(
    defaults: Mapping[str, str], overrides: Mapping[str, str | None]
) -> dict[str, str]:
    """``defaults`` with a configuration's extra parameters (``…QueryParams``, ``…BodyParams``)
    applied: a value replaces, a null removes a default, as in SuperTokens."""
    merged = dict(defaults)
    for name, value in overrides.items():
        if value is None:
            merged.pop(name, None)
        else:
            merged[name] = value
    return merged


def discovery_url(value: str, *, built_in: bool) -> str:
    """The discovery document's URL: a built-in provider's issuer gets the well-known path
    appended; a custom provider's value is the document's full URL, as SuperTokens takes it."""
    if built_in and not value.rstrip("/").endswith(WELL_KNOWN):
        return value.rstrip("/") + WELL_KNOWN
    return value


def parse_provider(config: Mapping[str, Any], *, complete: bool = True) -> Provider:
    """A provider from SuperTokens' JSON. Raises InvalidProviderConfig with the field at fault.

    ``complete=False`` checks as SuperTokens' core does when a tenant's provider is configured
    through its API: the clients and endpoints may be left for the backend SDK to add."""
    third_party_id = _text(config, "thirdPartyId", required=True) or ""
    built_in = built_in_for(third_party_id)
    raw_clients = config.get("clients")
    if raw_clients is None and not complete:
        raw_clients = []
    if not isinstance(raw_clients, list) or (complete and not raw_clients):
        raise InvalidProviderConfig(f"{third_party_id}: clients must be a non-empty list")
    clients = tuple(_client(third_party_id, c, built_in) for c in raw_clients)
    types = [c.client_type for c in clients]
    if len(types) > 1 and None in types:
        raise InvalidProviderConfig(
            f"{third_party_id}: with several clients, each needs a clientType"
        )
    if len(set(types)) != len(types):
        raise InvalidProviderConfig(f"{third_party_id}: two clients have the same clientType")
    user_info_map = config.get("userInfoMap") or {}
    if not isinstance(user_info_map, dict):
        raise InvalidProviderConfig(f"{third_party_id}: userInfoMap must be an object")
    discovery = _text(config, "oidcDiscoveryEndpoint")
    if discovery is None and built_in is not None:
        discovery = built_in.discovery or _directory_discovery(third_party_id, clients)
    user_info_endpoint = _url(config, "userInfoEndpoint") or (
        built_in.user_info_endpoint if built_in else None
    )
    provider = Provider(
        third_party_id=third_party_id,
        name=_text(config, "name") or (built_in.name if built_in else third_party_id),
        clients=clients,
        authorization_endpoint=_url(config, "authorizationEndpoint")
        or (built_in.authorization_endpoint if built_in else None),
        authorization_endpoint_query_params={
            **(built_in.authorization_params if built_in else {}),
            **_params(config, "authorizationEndpointQueryParams"),
        },
        token_endpoint=_url(config, "tokenEndpoint")
        or (built_in.token_endpoint if built_in else None),
        token_endpoint_body_params=_params(config, "tokenEndpointBodyParams"),
        user_info_endpoint=user_info_endpoint,
        user_info_endpoint_query_params={
            **(built_in.user_info_params if built_in else {}),
            **_params(config, "userInfoEndpointQueryParams"),
        },
        user_info_endpoint_headers={
            **(built_in.user_info_headers if built_in else {}),
            **_params(config, "userInfoEndpointHeaders"),
        },
        user_emails_endpoint=_url(config, "userEmailsEndpoint")
        or _emails_endpoint(built_in, user_info_endpoint),
        jwks_uri=_url(config, "jwksURI"),
        oidc_discovery_endpoint=(
            discovery_url(discovery, built_in=built_in is not None) if discovery else None
        ),
        from_id_token=_fields(user_info_map.get("fromIdTokenPayload"), OIDC_FIELDS),
        from_user_info=_fields(
            user_info_map.get("fromUserInfoAPI"),
            built_in.from_user_info if built_in else OIDC_FIELDS,
        ),
        user_emails_key=built_in.user_emails_key if built_in else None,
        token_basic_auth=built_in.token_basic_auth if built_in else False,
        hosted_domain=built_in.hosted_domain if built_in else False,
        token_check=built_in.token_check if built_in else None,
        require_email=_flag(config, "requireEmail", built_in.require_email if built_in else True),
        trust_email_verified=_flag(config, "trustEmailVerified", True),
        accept_unchecked_access_tokens=_flag(config, "acceptUncheckedAccessTokens", False),
    )
    if provider.oidc_discovery_endpoint:
        _check_url(third_party_id, "oidcDiscoveryEndpoint", provider.oidc_discovery_endpoint)
    elif complete and not (provider.authorization_endpoint and provider.token_endpoint):
        raise InvalidProviderConfig(
            f"{third_party_id}: give oidcDiscoveryEndpoint, or authorizationEndpoint and "
            "tokenEndpoint"
        )
    return provider


def with_discovery(provider: Provider, document: Mapping[str, Any]) -> Provider:
    """The provider with the endpoints its discovery document gives, where it left them unset.
    Each must be an https URL (http on loopback), as configured ones: a document cannot send
    the code or a token elsewhere. Raises InvalidProviderConfig."""

    def pick(current: str | None, key: str) -> str | None:
        if current:
            return current
        value = document.get(key)
        if value is None or value == "":
            return None
        if not isinstance(value, str):
            raise InvalidProviderConfig(f"{provider.third_party_id}: {key} must be a URL")
        _check_url(provider.third_party_id, key, value)
        return value

    return replace(
        provider,
        authorization_endpoint=pick(provider.authorization_endpoint, "authorization_endpoint"),
        token_endpoint=pick(provider.token_endpoint, "token_endpoint"),
        user_info_endpoint=pick(provider.user_info_endpoint, "userinfo_endpoint"),
        jwks_uri=pick(provider.jwks_uri, "jwks_uri"),
    )


def _client(third_party_id: str, raw: Any, built_in: BuiltIn | None) -> Client:
    if not isinstance(raw, dict):
        raise InvalidProviderConfig(f"{third_party_id}: each client must be an object")
    client_id = _text(raw, "clientId", required=True, owner=third_party_id) or ""
    scope = raw.get("scope")
    if scope is not None and (
        not isinstance(scope, list) or not all(isinstance(s, str) and s for s in scope)
    ):
        raise InvalidProviderConfig(f"{third_party_id}: scope must be a list of strings")
    additional = raw.get("additionalConfig") or {}
    if not isinstance(additional, dict):
        raise InvalidProviderConfig(f"{third_party_id}: additionalConfig must be an object")
    secret = _text(raw, "clientSecret", owner=third_party_id)
    signer = None
    if secret is None and built_in is BUILT_IN["apple"]:
        try:
            signer = SecretSigner.from_additional_config(additional)
        except InvalidSigningKey as invalid:
            raise InvalidProviderConfig(f"{third_party_id}: {invalid}") from None
    return Client(
        client_id=client_id,
        client_secret=secret,
        secret_signer=signer,
        client_type=_text(raw, "clientType", owner=third_party_id),
        scope=tuple(scope) if scope else (built_in.scope if built_in else None),
        force_pkce=_flag(
            raw, "forcePKCE", built_in.force_pkce if built_in else False, owner=third_party_id
        ),
        additional_config=additional,
    )


def _emails_endpoint(built_in: BuiltIn | None, user_info_endpoint: str | None) -> str | None:
    if built_in is None or built_in.user_emails_path is None or user_info_endpoint is None:
        return None
    return user_info_endpoint.rstrip("/") + built_in.user_emails_path


def _directory_discovery(third_party_id: str, clients: tuple[Client, ...]) -> str | None:
    """Active Directory and Okta find their issuer in the first client's additional config."""
    if not clients:
        return None
    extra = clients[0].additional_config
    if third_party_id.startswith("active-directory") and isinstance(extra.get("directoryId"), str):
        return f"https://login.microsoftonline.com/{extra['directoryId']}/v2.0"
    if third_party_id.startswith("okta") and isinstance(extra.get("oktaDomain"), str):
        domain = extra["oktaDomain"].removeprefix("https://").rstrip("/")
        return f"https://{domain}"
    return None


def _text(
    raw: Mapping[str, Any], name: str, *, required: bool = False, owner: str = ""
) -> str | None:
    value = raw.get(name)
    if value is None or value == "":
        if required:
            raise InvalidProviderConfig(f"{owner or 'provider'}: {name} is required")
        return None
    if not isinstance(value, str):
        raise InvalidProviderConfig(f"{owner or 'provider'}: {name} must be a string")
    return value


def _flag(raw: Mapping[str, Any], name: str, default: bool, *, owner: str = "") -> bool:
    value = raw.get(name)
    if value is None:
        return default
    if not isinstance(value, bool):
        raise InvalidProviderConfig(f"{owner or 'provider'}: {name} must be true or false")
    return value


def _url(raw: Mapping[str, Any], name: str) -> str | None:
    value = _text(raw, name)
    if value is not None:
        _check_url(str(raw.get("thirdPartyId")), name, value)
    return value


def _check_url(owner: str, name: str, value: str) -> None:
    parts = urlsplit(value)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise InvalidProviderConfig(f"{owner}: {name} must be an http(s) URL")
    if parts.scheme == "http" and parts.hostname not in ("localhost", "127.0.0.1", "::1"):
        raise InvalidProviderConfig(f"{owner}: {name} must use https (http only on loopback)")


def _params(raw: Mapping[str, Any], name: str) -> dict[str, str | None]:
    value = raw.get(name) or {}
    if not isinstance(value, dict) or not all(
        isinstance(k, str) and (v is None or isinstance(v, str)) for k, v in value.items()
    ):
        raise InvalidProviderConfig(f"{raw.get('thirdPartyId')}: {name} must map names to strings")
    return dict(value)


def _fields(raw: Any, default: UserFields) -> UserFields:
    if not isinstance(raw, dict):
        return default
    return UserFields(
        user_id=_text(raw, "userId") or default.user_id,
        email=_text(raw, "email") or default.email,
        email_verified=_text(raw, "emailVerified") or default.email_verified,
    )
