"""Third-party sign-in: the authorisation URL, then the sign-in/up from the provider's redirect
(the code exchanged for tokens) or from tokens a native app already holds.

Id tokens are verified against the provider's keys (issuer from its discovery document,
audience our client id, asymmetric algorithms only); user info is read with the access token.
Plain values in and out: the caller finishes the sign-in with ``app.sign_in.finish_sign_in``.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any

import httpx

from tokenward.recipes.thirdparty.port import ProviderAccount, SignedInUp, ThirdPartyStore
from tokenward.recipes.thirdparty.rules.access_tokens import (
    ForeignAccessToken,
    NoTokenCheck,
    check_answer,
    token_check,
)
from tokenward.recipes.thirdparty.rules.authorisation import (
    AuthorisationUrl,
    authorisation_url,
    check_redirect_uri,
    check_response_issuer,
)
from tokenward.recipes.thirdparty.rules.providers import Client, Provider, with_overrides
from tokenward.recipes.thirdparty.rules.user_info import (
    EMAILS,
    ProviderUser,
    check_hosted_domain,
    fake_email,
    names_a_user,
    provider_user,
)
from tokenward.recipes.thirdparty.service.providers import Discovered, TenantProviders
from tokenward.shared.clock import Clock
from tokenward.shared.emails import normalise_email
from tokenward.shared.id_tokens import InvalidIdToken, JwksCache, verify_id_token
from tokenward.shared.outbound_http import (
    ProviderUnavailable,
    get_json,
    get_json_list,
    host_of,
    post_form_json,
    post_json,
)


class NoTokens(ValueError):
    """An app sent neither an id token nor an access token."""


class NoEmail(Exception):
    """The provider gave no email and the provider's configuration requires one."""


class SignUpNotAllowed(Exception):
    """The app's sign-up check refused a provider account that has no user yet."""


SignUpCheck = Callable[[str, str, str], Awaitable[bool]]
"""(tenant id, provider id, email) -> whether this new account may sign up."""


class ThirdPartySignIn:
    def __init__(
        self,
        store: ThirdPartyStore,
        providers: TenantProviders,
        http: httpx.AsyncClient,
        jwks: JwksCache,
        clock: Clock,
        *,
        allowed_origins: Sequence[str],
        sign_up_check: SignUpCheck | None = None,
    ) -> None:
        self._store = store
        self._sign_up_check = sign_up_check
        self._providers = providers
        self._http = http
        self._jwks = jwks
        self._clock = clock
        self._origins = tuple(allowed_origins)

    async def authorisation_url(
        self, tenant_id: str, third_party_id: str, redirect_uri: str, client_type: str | None
    ) -> AuthorisationUrl:
        """Raises UnknownProvider, InvalidProviderConfig (client type), RedirectNotAllowed
        (checked before any call to the provider) or ProviderUnavailable (discovery)."""
        configured = await self._providers.provider(tenant_id, third_party_id)
        configured.client(client_type)
        check_redirect_uri(redirect_uri, self._origins)
        provider = (await self._providers.discovered(tenant_id, configured)).provider
        if provider.authorization_endpoint is None:
            raise _unavailable(provider, "no authorization endpoint")
        return authorisation_url(provider, provider.client(client_type), redirect_uri)

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
        MixedUpIssuer, InvalidIdToken, ForeignAccessToken, ProviderUnavailable,
        ProviderRefused, NoUserId, WrongHostedDomain, NoEmail or SignUpNotAllowed (the app's
        sign-up check, for an account without a user)."""
        configured = await self._providers.provider(tenant_id, third_party_id)
        configured.client(client_type)
        if tokens is not None:
            found = await self._providers.discovered(tenant_id, configured)
            user = await self._user_from_app(found, found.provider.client(client_type), tokens)
        else:
            if redirect_uri is None or query is None:
                raise ValueError("a sign-in needs the provider's redirect or its tokens")
            check_redirect_uri(redirect_uri, self._origins)
            found = await self._providers.discovered(tenant_id, configured)
            client = found.provider.client(client_type)
            check_response_issuer(query, found.issuer)
            exchanged = await self._exchange(
                found.provider, client, redirect_uri, query, pkce_verifier
            )
            user = await self._user_from_exchange(found, client, exchanged)
        provider = found.provider
        email = user.email
        if email is None:
            if provider.require_email:
                raise NoEmail(provider.third_party_id)
            email = fake_email(provider.third_party_id, user.user_id)
        account = ProviderAccount(
            provider.third_party_id, user.user_id, normalise_email(email), user.email_verified
        )
        now = self._clock.now_ms()
        check = self._sign_up_check
        if check is not None:
            existing = await self._store.sign_in(tenant_id, account, now=now)
            if existing is not None:
                return existing
            if not await check(tenant_id, provider.third_party_id, account.email):
                raise SignUpNotAllowed(provider.third_party_id)
        return await self._store.sign_in_up(
            tenant_id, account, new_user_id=str(uuid.uuid4()), now=now
        )

    async def _user_from_exchange(
        self, found: Discovered, client: Client, tokens: Mapping[str, Any]
    ) -> ProviderUser:
        """The tokens came straight from the provider's token endpoint: an id token we have
        no keys to check is ignored (as SuperTokens does: LinkedIn's, say), never trusted."""
        provider = found.provider
        checkable = provider.jwks_uri is not None and found.issuer is not None
        id_token = tokens.get("id_token") if checkable else None
        claims = await self._id_token_claims(found, client, id_token)
        user_info = await self._user_info(provider, tokens.get("access_token"))
        return self._user(provider, client, claims, user_info)

    async def _user_from_app(
        self, found: Discovered, client: Client, tokens: Mapping[str, Any]
    ) -> ProviderUser:
        """Tokens an app sends count only as far as they prove they are ours: an id token by
        its audience; an access token by the provider's token-check API, unless the user info
        it reads names the id token's user (OIDC Core 5.3.2)."""
        provider = found.provider
        id_token, access_token = tokens.get("id_token"), tokens.get("access_token")
        if not isinstance(access_token, str) or not access_token:
            access_token = None
        if not isinstance(id_token, str) or not id_token:
            if access_token is None:
                raise NoTokens("oAuthTokens needs an id_token or an access_token")
            id_token = None
        if id_token is not None and (provider.jwks_uri is None or found.issuer is None):
            raise InvalidIdToken(f"{provider.third_party_id}: no keys to check an id token")
        claims = await self._id_token_claims(found, client, id_token)
        user_info = None
        if access_token is not None and provider.user_info_endpoint is not None:
            if claims is None or provider.from_user_info.user_id is None:
                await self._check_access_token(provider, client, access_token)
            user_info = await self._user_info(provider, access_token)
            if claims is not None and not names_a_user(provider, user_info):
                user_info = None  # cannot be tied to the id token's user: not used
        return self._user(provider, client, claims, user_info)

    def _user(
        self,
        provider: Provider,
        client: Client,
        claims: Mapping[str, Any] | None,
        user_info: Mapping[str, Any] | None,
    ) -> ProviderUser:
        if claims is None and user_info is None:
            raise _unavailable(provider, "neither an id token nor user info")
        check_hosted_domain(provider, client, claims, user_info)
        return provider_user(provider, id_token_claims=claims, user_info=user_info)

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
            raise _unavailable(provider, "no token endpoint")
        exchange = {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": redirect_uri,
            "client_id": client.client_id,
            **(
                {"client_secret": secret}
                if (secret := self._secret(client)) and not provider.token_basic_auth
                else {}
            ),
            **({"code_verifier": pkce_verifier} if pkce_verifier else {}),
        }
        form = with_overrides(exchange, provider.token_endpoint_body_params)
        basic = (client.client_id, secret) if provider.token_basic_auth and secret else None
        return await post_form_json(self._http, provider.token_endpoint, form, auth=basic)

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
            raise ValueError("callers check that the provider's keys and issuer are known")
        return await verify_id_token(
            id_token,
            jwks=self._jwks,
            jwks_uri=provider.jwks_uri,
            issuer=found.issuer,
            audience=client.client_id,
            allowed_algorithms=found.algorithms,
            now=self._clock.now_ms() / 1000,
            authorized_parties={c.client_id for c in provider.clients},
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
            if provider.user_emails_key is None:
                listed: Any = await get_json_list(
                    self._http, provider.user_emails_endpoint, headers=headers
                )
            else:
                answer = await get_json(self._http, provider.user_emails_endpoint, headers=headers)
                listed = answer.get(provider.user_emails_key)
            info[EMAILS] = listed
        return info

    async def _check_access_token(self, provider: Provider, client: Client, token: str) -> None:
        """Raises ForeignAccessToken, ProviderRefused (the check API refused the token) or
        ProviderUnavailable."""
        try:
            check = token_check(provider, client, token)
        except NoTokenCheck as none:
            if provider.accept_unchecked_access_tokens:
                return
            raise ForeignAccessToken(f"{none}; send an id token, or use the redirect") from None
        if check.json:
            answer = await post_json(
                self._http, check.url, check.json, headers=check.headers, auth=check.basic_auth
            )
        elif check.method == "POST":
            answer = await post_form_json(
                self._http, check.url, check.form, headers=check.headers, auth=check.basic_auth
            )
        else:
            answer = await get_json(self._http, check.url, headers=check.headers,
                                    params=check.params)  # fmt: skip
        check_answer(check.reader, answer, {c.client_id for c in provider.clients})


def _unavailable(provider: Provider, why: str) -> ProviderUnavailable:
    where = provider.oidc_discovery_endpoint or provider.token_endpoint
    host = host_of(where) if where else provider.third_party_id
    return ProviderUnavailable(f"{provider.third_party_id}: {why}", host=host)
