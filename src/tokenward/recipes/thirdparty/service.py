"""Third-party sign-in: the authorisation URL, then the sign-in/up from the provider's redirect
(the code exchanged for tokens) or from tokens a native app already holds.

Id tokens are verified against the provider's keys (issuer from its discovery document,
audience our client id, asymmetric algorithms only); user info is read with the access token.
Plain values in and out: the caller finishes the sign-in with ``app.sign_in.finish_sign_in``.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import httpx

from tokenward.recipes.thirdparty.port import (
    ProviderAccount,
    ProviderConfigs,
    SignedInUp,
    ThirdPartyStore,
)
from tokenward.recipes.thirdparty.rules.authorisation import (
    AuthorisationUrl,
    authorisation_url,
    check_redirect_uri,
)
from tokenward.recipes.thirdparty.rules.providers import (
    Client,
    InvalidProviderConfig,
    Provider,
    parse_provider,
    with_discovery,
)
from tokenward.recipes.thirdparty.rules.user_info import EMAILS, fake_email, provider_user
from tokenward.shared.clock import Clock
from tokenward.shared.emails import normalise_email
from tokenward.shared.id_tokens import ASYMMETRIC_ALGORITHMS, JwksCache, verify_id_token
from tokenward.shared.outbound_http import (
    ProviderUnavailable,
    get_json,
    get_json_list,
    post_form_json,
)

DISCOVERY_TTL_MS = 3_600_000
TENANT_PROVIDERS_TTL_MS = 5_000
"""How long a process keeps a tenant's providers before reading them again, so that a change
made through another instance's core API is seen within seconds."""

log = logging.getLogger(__name__)


class UnknownProvider(LookupError):
    """No provider of this id is configured."""


class NoEmail(Exception):
    """The provider gave no email and the provider's configuration requires one."""


@dataclass(frozen=True, slots=True)
class Discovered:
    source: Provider
    """The configuration it was discovered for: a changed one is discovered again."""
    provider: Provider
    issuer: str | None
    algorithms: tuple[str, ...]
    at: int


class ThirdPartySignIn:
    def __init__(
        self,
        store: ThirdPartyStore,
        configs: ProviderConfigs,
        providers: Sequence[Provider],
        http: httpx.AsyncClient,
        jwks: JwksCache,
        clock: Clock,
        *,
        allowed_origins: Sequence[str],
    ) -> None:
        self._store = store
        self._configs = configs
        self._configured = {p.third_party_id: p for p in providers}
        self._http = http
        self._jwks = jwks
        self._clock = clock
        self._origins = tuple(allowed_origins)
        self._tenants: dict[str, tuple[int, dict[str, Provider]]] = {}
        self._unusable: set[tuple[str, str]] = set()
        self._discovered: dict[tuple[str, str], Discovered] = {}

    async def providers(self, tenant_id: str) -> list[Provider]:
        """The settings' providers, each replaced by the tenant's configuration of the same id
        (core API), then the tenant's others."""
        return list((await self._tenant_providers(tenant_id)).values())

    async def put_provider(
        self, tenant_id: str, config: Mapping[str, Any], *, skip_validation: bool = False
    ) -> bool:
        """Stores a tenant's provider (SuperTokens' JSON, checked as its core checks it unless
        ``skip_validation``); True when it is new. Raises InvalidProviderConfig or
        UnknownTenant."""
        third_party_id = config.get("thirdPartyId")
        if not isinstance(third_party_id, str) or not third_party_id:
            raise InvalidProviderConfig("thirdPartyId is required")
        if not skip_validation:
            parse_provider(config, complete=False)
        created = await self._configs.put_provider(
            tenant_id, third_party_id, config, now=self._clock.now_ms()
        )
        self._tenants.pop(tenant_id, None)
        return created

    async def remove_provider(self, tenant_id: str, third_party_id: str) -> bool:
        removed = await self._configs.remove_provider(tenant_id, third_party_id)
        self._tenants.pop(tenant_id, None)
        return removed

    async def stored_providers(self, tenant_id: str) -> list[dict[str, Any]]:
        """The tenant's providers as stored through the core API (not the settings')."""
        return await self._configs.tenant_providers(tenant_id)

    async def authorisation_url(
        self, tenant_id: str, third_party_id: str, redirect_uri: str, client_type: str | None
    ) -> AuthorisationUrl:
        """Raises UnknownProvider, RedirectNotAllowed, InvalidProviderConfig (client type) or
        ProviderUnavailable (discovery)."""
        provider = await self._provider(tenant_id, third_party_id)
        check_redirect_uri(redirect_uri, self._origins)
        found = await self._resolve(tenant_id, provider)
        return authorisation_url(found.provider, found.provider.client(client_type), redirect_uri)

    async def sign_in_up(
        self,
        tenant_id: str,
        third_party_id: str,
        client_type: str | None,
        *,
        redirect_uri: str | None = None,
        query: Mapping[str, Any] | None = None,
        pkce_verifier: str | None = None,
        tokens: Mapping[str, Any] | None = None,
    ) -> SignedInUp:
        """With ``redirect_uri`` and ``query`` (the provider's redirect), the code is exchanged
        for tokens; with ``tokens``, those are used. Raises UnknownProvider, RedirectNotAllowed,
        InvalidIdToken, ProviderUnavailable, ProviderRefused, NoUserId or NoEmail."""
        found = await self._resolve(tenant_id, await self._provider(tenant_id, third_party_id))
        provider = found.provider
        client = provider.client(client_type)
        if tokens is None:
            if redirect_uri is None or query is None:
                raise ValueError("a sign-in needs the provider's redirect or its tokens")
            check_redirect_uri(redirect_uri, self._origins)
            tokens = await self._exchange(provider, client, redirect_uri, query, pkce_verifier)
        claims = await self._id_token_claims(found, client, tokens.get("id_token"))
        user_info = await self._user_info(provider, tokens.get("access_token"))
        if claims is None and user_info is None:
            raise ProviderUnavailable(
                f"{provider.third_party_id} gave neither an id token nor user info",
                host=provider.third_party_id,
            )
        user = provider_user(provider, id_token_claims=claims, user_info=user_info)
        email = user.email
        if email is None:
            if provider.require_email:
                raise NoEmail(provider.third_party_id)
            email = fake_email(provider.third_party_id, user.user_id)
        account = ProviderAccount(
            provider.third_party_id, user.user_id, normalise_email(email), user.email_verified
        )
        return await self._store.sign_in_up(
            tenant_id, account, new_user_id=str(uuid.uuid4()), now=self._clock.now_ms()
        )

    async def _tenant_providers(self, tenant_id: str) -> dict[str, Provider]:
        now = self._clock.now_ms()
        cached = self._tenants.get(tenant_id)
        if cached is not None and now - cached[0] < TENANT_PROVIDERS_TTL_MS:
            return cached[1]
        providers = dict(self._configured)
        for config in await self._configs.tenant_providers(tenant_id):
            third_party_id = str(config.get("thirdPartyId"))
            try:
                providers[third_party_id] = parse_provider(config)
            except InvalidProviderConfig as unusable:
                # Stored for a backend SDK that adds the rest (clients, endpoints); not ours.
                providers.pop(third_party_id, None)
                if (tenant_id, third_party_id) not in self._unusable:
                    self._unusable.add((tenant_id, third_party_id))
                    log.warning("provider %s of tenant %s is not offered: %s",
                                third_party_id, tenant_id, unusable)  # fmt: skip
        self._tenants[tenant_id] = (now, providers)
        return providers

    async def _provider(self, tenant_id: str, third_party_id: str) -> Provider:
        provider = (await self._tenant_providers(tenant_id)).get(third_party_id)
        if provider is None:
            raise UnknownProvider(third_party_id)
        return provider

    async def _resolve(self, tenant_id: str, provider: Provider) -> Discovered:
        now = self._clock.now_ms()
        key = (tenant_id, provider.third_party_id)
        cached = self._discovered.get(key)
        if cached is not None and cached.source == provider and now - cached.at < DISCOVERY_TTL_MS:
            return cached
        if provider.oidc_discovery_endpoint is None:
            found = Discovered(provider, provider, None, ("RS256",), now)
        else:
            document = await get_json(self._http, provider.oidc_discovery_endpoint)
            issuer = document.get("issuer")
            listed = document.get("id_token_signing_alg_values_supported")
            algorithms = tuple(
                a for a in (listed if isinstance(listed, list) else ["RS256"]) if isinstance(a, str)
            )
            found = Discovered(
                provider,
                with_discovery(provider, document),
                issuer if isinstance(issuer, str) else None,
                tuple(a for a in algorithms if a in ASYMMETRIC_ALGORITHMS) or ("RS256",),
                now,
            )
        self._discovered[key] = found
        return found

    async def _exchange(
        self,
        provider: Provider,
        client: Client,
        redirect_uri: str,
        query: Mapping[str, Any],
        pkce_verifier: str | None,
    ) -> dict[str, Any]:
        code = query.get("code")
        if not isinstance(code, str) or not code:
            raise ValueError("the provider's redirect carries no code")
        if provider.token_endpoint is None:
            raise ProviderUnavailable(
                f"{provider.third_party_id}: no token endpoint", host=provider.third_party_id
            )
        form = {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": redirect_uri,
            "client_id": client.client_id,
            **({"client_secret": secret} if (secret := self._secret(client)) else {}),
            **({"code_verifier": pkce_verifier} if pkce_verifier else {}),
        }
        for name, value in provider.token_endpoint_body_params.items():
            if value is None:
                form.pop(name, None)
            else:
                form[name] = value
        return await post_form_json(self._http, provider.token_endpoint, form)

    def _secret(self, client: Client) -> str | None:
        if client.secret_signer is not None and client.client_secret is None:
            return client.secret_signer.client_secret(
                client.client_id, self._clock.now_ms() // 1000
            )
        return client.client_secret

    async def _id_token_claims(
        self, found: Discovered, client: Client, id_token: Any
    ) -> dict[str, Any] | None:
        if not isinstance(id_token, str) or not id_token:
            return None
        provider = found.provider
        if provider.jwks_uri is None or found.issuer is None:
            raise ProviderUnavailable(
                f"{provider.third_party_id}: an id token, but no keys or issuer to check it",
                host=provider.third_party_id,
            )
        return await verify_id_token(
            id_token,
            jwks=self._jwks,
            jwks_uri=provider.jwks_uri,
            issuer=found.issuer,
            audience=client.client_id,
            allowed_algorithms=found.algorithms,
            now=self._clock.now_ms() / 1000,
        )

    async def _user_info(self, provider: Provider, access_token: Any) -> dict[str, Any] | None:
        """The user-info answer, with the user-emails answer under ``EMAILS`` when the provider
        lists emails (GitHub). Both are read with the access token as a bearer token."""
        if provider.user_info_endpoint is None or not isinstance(access_token, str):
            return None
        headers = {"Authorization": f"Bearer {access_token}"}
        for name, value in provider.user_info_endpoint_headers.items():
            if value is not None:
                headers[name] = value
        params = {k: v for k, v in provider.user_info_endpoint_query_params.items() if v}
        info = await get_json(
            self._http, provider.user_info_endpoint, headers=headers, params=params
        )
        if provider.user_emails_endpoint is not None:
            info[EMAILS] = await get_json_list(
                self._http, provider.user_emails_endpoint, headers=headers
            )
        return info
