"""Remote mode: an app verifies sessions issued by a separate `tokenward serve`.

Tokens are verified locally against the server's JWKS (fetched at start, cached, refetched on an
unknown ``kid`` at most every ``UNKNOWN_KID_REFETCH_MS``), so a current token costs no network
call. The server's core API is called only when it must be: the first use of a refreshed token
(promotion), ``check_database``, payload changes, session data and revocation. The frontend
talks to the server's /auth routes directly; this app serves none of them.

    remote = RemoteAuth("http://auth.internal:3567", api_key=os.environ["TOKENWARD_API_KEY"])
    app = FastAPI(lifespan=lambda app: remote.lifespan())
    remote.install(app)
    # routes use tokenward.integrations.fastapi.verify_session() exactly as when embedded
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import asynccontextmanager
from typing import Any

import httpx
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey
from starlette.applications import Starlette

from tokenward.config import Settings, load_settings
from tokenward.http.context import TokenwardMiddleware
from tokenward.http.errors import SESSION_HANDLERS
from tokenward.http.session_access import SessionAccess
from tokenward.http.transport import TokenTransport
from tokenward.recipes.jwt.rules import public_key_from_jwk
from tokenward.recipes.multifactorauth.rules import MfaSatisfied
from tokenward.recipes.session.errors import TryRefreshToken, Unauthorised
from tokenward.recipes.session.rules import access_token
from tokenward.recipes.session.rules.cookie_policy import AntiCsrfMode
from tokenward.recipes.session.service.reading import TokenReader
from tokenward.recipes.session.service.types import (
    AccessToken,
    SessionInfo,
    VerifiedSession,
    access_token_from,
)
from tokenward.shared.claims import ClaimValidator
from tokenward.shared.clock import Clock, SystemClock
from tokenward.shared.database.errors import StoreUnavailable

UNKNOWN_KID_REFETCH_MS = 500
JWKS_REFRESH_MS = 4 * 3_600_000
CDI_VERSION = "5.4"


class AuthServerUnavailable(StoreUnavailable):
    """The tokenward server did not answer; routes answer 503 with Retry-After."""


class JwksKeys:
    """The server's public keys, from its JWKS: fetched at start, refetched every
    ``JWKS_REFRESH_MS`` and on an unknown ``kid`` at most every ``UNKNOWN_KID_REFETCH_MS``."""

    def __init__(self, fetch: Callable[[], Awaitable[dict[str, Any]]], clock: Clock) -> None:
        self._fetch = fetch
        self._clock = clock
        self._keys: dict[str, RSAPublicKey] = {}
        self._fetched_at = -JWKS_REFRESH_MS

    @property
    def public_keys(self) -> Mapping[str, RSAPublicKey]:
        return self._keys

    async def fetch(self) -> None:
        keys: dict[str, RSAPublicKey] = {}
        for jwk in (await self._fetch()).get("keys", []):
            try:
                keys[str(jwk["kid"])] = public_key_from_jwk(jwk)
            except (KeyError, ValueError):
                continue  # a key we would never accept; others may still verify
        self._keys = keys
        self._fetched_at = self._clock.now_ms()

    async def refresh_if_stale(self) -> None:
        if self._clock.now_ms() - self._fetched_at >= JWKS_REFRESH_MS:
            await self.fetch()

    async def reload_for_unknown_kid(self) -> bool:
        if self._clock.now_ms() - self._fetched_at < UNKNOWN_KID_REFETCH_MS:
            return False
        await self.fetch()
        return True


class RemoteSessions:
    """A SessionBackend that verifies locally, with the same token reading as embedded mode,
    and asks the server's core API for the rest."""

    def __init__(self, client: httpx.AsyncClient, clock: Clock, *, anti_csrf_tokens: bool) -> None:
        self._client = client
        self._anti_csrf_tokens = anti_csrf_tokens
        self.jwks = JwksKeys(lambda: self._call("GET", "/.well-known/jwks.json"), clock)
        self._reader = TokenReader(self.jwks, clock, anti_csrf_tokens=anti_csrf_tokens)

    async def verify(
        self,
        token: str,
        *,
        check_database: bool = False,
        anti_csrf_token: str | None = None,
        check_anti_csrf_token: bool = False,
    ) -> VerifiedSession:
        claims = await self._parse(token)
        if check_anti_csrf_token:
            self._reader.check_anti_csrf(claims, anti_csrf_token)
        if claims.parent_refresh_token_hash1 is None and not check_database:
            return VerifiedSession(claims, token)
        answer = await self._call(
            "POST",
            "/recipe/session/verify",
            json={
                "accessToken": token,
                "checkDatabase": check_database,
                "doAntiCsrfCheck": False,
                "enableAntiCsrf": self._anti_csrf_tokens,
            },
        )
        self._raise_for(answer)
        fresh = answer.get("accessToken")
        if isinstance(fresh, dict) and isinstance(fresh.get("token"), str):
            return VerifiedSession(claims, token, await self._access(fresh["token"]))
        return VerifiedSession(claims, token)

    async def merge_into_payload(
        self, session_handle: str, patch: Mapping[str, Any], *, access_token_str: str | None = None
    ) -> AccessToken | None:
        access_token.check_user_payload(patch)
        current = await self.info(session_handle)
        if current is None:
            raise Unauthorised("session has ended or been revoked", clear_tokens=True)
        merged = {**current.access_token_payload, **patch}
        merged = {k: v for k, v in merged.items() if v is not None}
        if access_token_str is None:
            raise ValueError("remote mode needs the session's access token to change its payload")
        answer = await self._call(
            "POST",
            "/recipe/session/regenerate",
            json={"accessToken": access_token_str, "userDataInJWT": merged},
        )
        self._raise_for(answer)
        return await self._access(answer["accessToken"]["token"])

    async def revoke(self, session_handles: list[str]) -> list[str]:
        answer = await self._call(
            "POST", "/recipe/session/remove", json={"sessionHandles": session_handles}
        )
        return [str(h) for h in answer.get("sessionHandlesRevoked", [])]

    async def info(self, session_handle: str) -> SessionInfo | None:
        answer = await self._call(
            "GET", "/recipe/session", params={"sessionHandle": session_handle}
        )
        if answer.get("status") != "OK":
            return None
        return SessionInfo(
            session_handle=answer["sessionHandle"],
            user_id=answer["userId"],
            recipe_user_id=answer.get("recipeUserId", answer["userId"]),
            tenant_id=answer["tenantId"],
            session_data=answer["userDataInDatabase"],
            access_token_payload=answer["userDataInJWT"],
            created_at_ms=answer["timeCreated"],
            expires_at_ms=answer["expiry"],
        )

    async def update_data(self, session_handle: str, data: Mapping[str, Any]) -> bool:
        answer = await self._call(
            "PUT",
            "/recipe/session/data",
            json={"sessionHandle": session_handle, "userDataInDatabase": dict(data)},
        )
        return answer.get("status") == "OK"

    async def _parse(self, token: str) -> access_token.AccessTokenClaims:
        await self.jwks.refresh_if_stale()
        return await self._reader.parse(token)

    async def _access(self, token: str) -> AccessToken:
        return access_token_from(await self._parse(token), token)

    @staticmethod
    def _raise_for(answer: Mapping[str, Any]) -> None:
        status = answer.get("status")
        if status == "TRY_REFRESH_TOKEN":
            raise TryRefreshToken(str(answer.get("message", "try refresh token")))
        if status != "OK":
            raise Unauthorised(str(answer.get("message", "unauthorised")), clear_tokens=True)

    async def _call(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        try:
            response = await self._client.request(method, path, **kwargs)
        except httpx.HTTPError:
            raise AuthServerUnavailable("the tokenward server is unavailable") from None
        if response.status_code >= 500:
            raise AuthServerUnavailable("the tokenward server is unavailable")
        if response.status_code != 200:
            # 401 Invalid API key or 400: a configuration error on our side, not the user's.
            raise RuntimeError(
                f"tokenward server answered {response.status_code} to {method} {path}: "
                f"{response.text[:200]}"
            )
        answer = response.json()
        if not isinstance(answer, dict):
            raise RuntimeError(f"tokenward server sent an unexpected body for {path}")
        return answer


class RemoteAuth:
    def __init__(
        self,
        server_url: str,
        settings: Settings | None = None,
        *,
        api_key: str | None = None,
        claim_validators: tuple[ClaimValidator, ...] = (),
        clock: Clock | None = None,
        http_transport: httpx.AsyncBaseTransport | None = None,
        timeout_s: float = 5.0,
    ) -> None:
        """``settings`` must match the server's where they concern tokens in requests and
        responses (API domain and base path, cookie and anti-CSRF settings, status codes).
        ``claim_validators`` are added to MFA's (``st-mfa``), which every route checks unless
        it opts out."""
        self.server_url = server_url.rstrip("/")
        self.settings = settings or load_settings()
        self._api_key = api_key
        self._validators = claim_validators
        self._clock = clock or SystemClock()
        self._http_transport = http_transport
        self._timeout_s = timeout_s
        self._session_access: SessionAccess | None = None

    @property
    def session_access(self) -> SessionAccess:
        if self._session_access is None:
            raise RuntimeError("remote auth has not started: run the app's lifespan")
        return self._session_access

    @asynccontextmanager
    async def lifespan(self) -> AsyncIterator[None]:
        headers = {"cdi-version": CDI_VERSION}
        if self._api_key:
            headers["api-key"] = self._api_key
        async with httpx.AsyncClient(
            base_url=self.server_url,
            headers=headers,
            timeout=self._timeout_s,
            transport=self._http_transport,
        ) as client:
            sessions = RemoteSessions(
                client,
                self._clock,
                anti_csrf_tokens=self.settings.effective_anti_csrf is AntiCsrfMode.VIA_TOKEN,
            )
            await sessions.jwks.fetch()
            self._session_access = SessionAccess(
                settings=self.settings,
                sessions=sessions,
                transport=TokenTransport(self.settings, self._clock),
                clock=self._clock,
                claim_validators=(MfaSatisfied(), *self._validators),
            )
            try:
                yield
            finally:
                self._session_access = None

    def install(self, app: Starlette) -> None:
        """Let the app's routes verify sessions (no /auth routes: the server serves those)."""
        app.add_middleware(TokenwardMiddleware, session_access=lambda: self.session_access)
        for error, handler in SESSION_HANDLERS.items():
            app.add_exception_handler(error, handler)
