"""The floors of figures 2, 3, 7 and 8: bare Starlette endpoints doing only the work a refresh, a
password sign-in, a passwordless code consume or a social sign-in/up cannot avoid.

Refresh: one indexed lookup of the session row, one conditional update of its refresh-token
hash (the rotation guard; in a transaction on SQLite, see SqliteRows), one RS256-signed access
token, and the response headers tokenward sends in header mode.

Sign-in: one indexed lookup of the account's password hash (in tokenward's tables: the
accounts are signed up through tokenward), one Argon2id verification in a pool of as many
threads as CPUs, one session row inserted, one RS256-signed access token, the same headers.

Passwordless consume (by link code, an existing user signing in): the SHA-256 of the link
code, one conditional write that deletes the device if it has a live code of that hash (its
codes go with it, by the foreign key's cascade) and returns its email, one indexed lookup of
the user by that email (in tokenward's tables), one session row inserted, one RS256-signed
access token, the same headers.

Social sign-in/up (the provider's redirect, bench/oidc_provider.py): the code POSTed as a form
to the provider's token endpoint through one shared httpx client, the id token checked by PyJWT
against the provider's key (RS256; signature, issuer, audience, expiry; the discovery document
and the JWKS are read once, at start), one upsert of the user by provider and subject (``INSERT
… ON CONFLICT DO UPDATE … RETURNING``, in a table of its own: it signs users up as well as in),
one session row inserted, one RS256-signed access token, the same headers.

None has framework layers, sealing of the refresh token, rate limiting, audit records,
claims beyond the standard ones, or email-verification and role reads. Run as

    python -m bench.floor_app   (DATABASE_URL, PORT, WORKERS in the environment; for the social
                                 floor SOCIAL_DISCOVERY, SOCIAL_CLIENT_ID, SOCIAL_CLIENT_SECRET)

on the database ``bench.databases.SessionSeeder`` filled (``floor_sessions`` for refreshes,
``passwordless_codes`` for consumes; ``floor_rows.SOCIAL_USERS`` created for social logins).
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import functools
import hashlib
import json
import os
import secrets
import time
import uuid
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import argon2
import httpx
import jwt
import uvicorn
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from bench.databases import floor_hash2
from bench.floor_rows import VALIDITY_MS, Rows, SocialAccount, open_rows

EXPOSE = "front-token, st-access-token, st-refresh-token"
RESTART = {"status": "RESTART_FLOW_ERROR"}
REFUSED = {
    "status": "GENERAL_ERROR",
    "message": "The sign-in provider did not confirm who you are.",
}


@dataclass(frozen=True)
class SocialProvider:
    """The social floor's one provider, its discovery document and JWKS read once."""

    third_party_id: str
    client_id: str
    client_secret: str
    issuer: str
    token_endpoint: str
    keys: dict[str, jwt.PyJWK]

    @classmethod
    async def discover(cls, http: httpx.AsyncClient, discovery_url: str) -> SocialProvider:
        document = (await http.get(discovery_url)).raise_for_status().json()
        jwks = (await http.get(document["jwks_uri"])).raise_for_status().json()
        return cls(
            os.environ.get("SOCIAL_THIRD_PARTY_ID", "bench-oidc"),
            os.environ["SOCIAL_CLIENT_ID"],
            os.environ["SOCIAL_CLIENT_SECRET"],
            document["issuer"],
            document["token_endpoint"],
            {key["kid"]: jwt.PyJWK(key) for key in jwks["keys"]},
        )

    def verify(self, id_token: str) -> dict[str, Any]:
        """The id token's claims; raises jwt.PyJWTError (or KeyError: an unknown key)."""
        key = self.keys[jwt.get_unverified_header(id_token)["kid"]]
        claims: dict[str, Any] = jwt.decode(
            id_token,
            key,
            algorithms=["RS256"],
            audience=self.client_id,
            issuer=self.issuer,
            options={"require": ["exp", "iat", "iss", "aud", "sub"]},
        )
        return claims


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _json(value: dict[str, Any]) -> bytes:
    return json.dumps(value, separators=(",", ":")).encode()


def create_app() -> Starlette:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    kid = f"s-{uuid.uuid4()}"
    header = _b64(_json({"kid": kid, "typ": "JWT", "version": "5", "alg": "RS256"}))
    hasher = argon2.PasswordHasher()
    state: dict[str, Any] = {}

    @asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        with ThreadPoolExecutor(os.cpu_count()) as pool:
            async with open_rows(os.environ["DATABASE_URL"]) as rows, httpx.AsyncClient() as http:
                state["rows"], state["pool"], state["http"] = rows, pool, http
                discovery = os.environ.get("SOCIAL_DISCOVERY")
                if discovery:
                    state["social"] = await SocialProvider.discover(http, discovery)
                yield

    def session_headers(
        handle: str, user_id: str, token: str, parent: str | None, now: int
    ) -> dict[str, str]:
        expires_s = now // 1000 + 3600
        claims: dict[str, Any] = {
            "iat": now // 1000,
            "exp": expires_s,
            "sub": user_id,
            "tId": "public",
            "rsub": user_id,
            "sessionHandle": handle,
            "refreshTokenHash1": hashlib.sha256(token.encode()).hexdigest(),
            "parentRefreshTokenHash1": (
                None if parent is None else hashlib.sha256(parent.encode()).hexdigest()
            ),
            "antiCsrfToken": None,
            "iss": "http://localhost/auth",
        }
        signing_input = f"{header}.{_b64(_json(claims))}"
        signature = key.sign(signing_input.encode(), padding.PKCS1v15(), hashes.SHA256())
        return {
            "st-access-token": f"{signing_input}.{_b64(signature)}",
            "st-refresh-token": token,
            "front-token": _b64(_json({"uid": user_id, "ate": expires_s * 1000, "up": claims})),
            "access-control-expose-headers": EXPOSE,
        }

    async def refresh(request: Request) -> Response:
        rows: Rows = state["rows"]
        presented = request.headers.get("authorization", "")[7:]
        handle = presented.split(".", 1)[0]
        found = await rows.lookup(handle)
        now = int(time.time() * 1000)
        old = floor_hash2(presented)
        if found is None or found[2] <= now or not secrets.compare_digest(found[0], old):
            return JSONResponse({"message": "unauthorised"}, status_code=401)
        token = f"{handle}.{secrets.token_urlsafe(32)}"
        if not await rows.swap(handle, old, floor_hash2(token), now + VALIDITY_MS):
            return JSONResponse({"message": "unauthorised"}, status_code=401)
        return JSONResponse({}, headers=session_headers(handle, found[1], token, presented, now))

    async def sign_in(request: Request) -> Response:
        rows: Rows = state["rows"]
        form = json.loads(await request.body())
        fields = {field["id"]: field["value"] for field in form["formFields"]}
        found = await rows.account(fields["email"])
        if found is None:
            return JSONResponse({"status": "WRONG_CREDENTIALS_ERROR"})
        user_id, stored = found
        verify = functools.partial(_verified, hasher, stored, fields["password"])
        if not await asyncio.get_running_loop().run_in_executor(state["pool"], verify):
            return JSONResponse({"status": "WRONG_CREDENTIALS_ERROR"})
        handle = str(uuid.uuid4())
        token = f"{handle}.{secrets.token_urlsafe(32)}"
        now = int(time.time() * 1000)
        await rows.insert(handle, user_id, floor_hash2(token), now)
        user = {"id": user_id, "emails": [fields["email"]], "timeJoined": now}
        return JSONResponse(
            {"status": "OK", "user": user},
            headers=session_headers(handle, user_id, token, None, now),
        )

    async def consume_code(request: Request) -> Response:
        rows: Rows = state["rows"]
        body = json.loads(await request.body())
        link_code = body["linkCode"]
        try:
            raw = base64.urlsafe_b64decode(link_code + "=" * (-len(link_code) % 4))
        except (binascii.Error, ValueError):
            return JSONResponse(RESTART)
        now = int(time.time() * 1000)
        email = await rows.consume_code(
            body["preAuthSessionId"], _b64(hashlib.sha256(raw).digest()), now
        )
        if email is None:
            return JSONResponse(RESTART)
        found = await rows.passwordless_user(email)
        if found is None:  # the floor signs existing users in; it creates none
            return JSONResponse(RESTART)
        user_id, time_joined = found
        handle = str(uuid.uuid4())
        token = f"{handle}.{secrets.token_urlsafe(32)}"
        await rows.start_session(handle, user_id, floor_hash2(token), now)
        user = {"id": user_id, "emails": [email], "timeJoined": time_joined}
        return JSONResponse(
            {"status": "OK", "createdNewRecipeUser": False, "user": user},
            headers=session_headers(handle, user_id, token, None, now),
        )

    async def sign_in_up(request: Request) -> Response:
        rows: Rows = state["rows"]
        provider: SocialProvider = state["social"]
        body = json.loads(await request.body())
        if body.get("thirdPartyId") != provider.third_party_id:
            return JSONResponse({"message": "unknown provider"}, status_code=400)
        redirect = body["redirectURIInfo"]
        form = {
            "grant_type": "authorization_code",
            "code": redirect["redirectURIQueryParams"]["code"],
            "redirect_uri": redirect["redirectURIOnProviderDashboard"],
            "client_id": provider.client_id,
            "client_secret": provider.client_secret,
        }
        answer = await state["http"].post(provider.token_endpoint, data=form)
        if answer.status_code != 200:
            return JSONResponse(REFUSED)
        try:
            claims = provider.verify(answer.json()["id_token"])
        except (jwt.PyJWTError, KeyError):
            return JSONResponse(REFUSED)
        now = int(time.time() * 1000)
        email = str(claims["email"]).lower()
        account = SocialAccount(
            provider.third_party_id, claims["sub"], email, claims.get("email_verified") is True, now
        )
        new_user_id = str(uuid.uuid4())
        user_id, time_joined = await rows.upsert_social(account, new_user_id)
        handle = str(uuid.uuid4())
        token = f"{handle}.{secrets.token_urlsafe(32)}"
        await rows.start_session(handle, user_id, floor_hash2(token), now)
        user = {
            "id": user_id,
            "emails": [email],
            "thirdParty": [{"id": provider.third_party_id, "userId": claims["sub"]}],
            "timeJoined": time_joined,
        }
        return JSONResponse(
            {"status": "OK", "createdNewRecipeUser": user_id == new_user_id, "user": user},
            headers=session_headers(handle, user_id, token, None, now),
        )

    return Starlette(
        routes=[
            Route("/auth/session/refresh", refresh, methods=["POST"]),
            Route("/auth/signin", sign_in, methods=["POST"]),
            Route("/auth/signinup/code/consume", consume_code, methods=["POST"]),
            Route("/auth/signinup", sign_in_up, methods=["POST"]),
        ],
        lifespan=lifespan,
    )


def _verified(hasher: argon2.PasswordHasher, stored: str, password: str) -> bool:
    try:
        return hasher.verify(stored, password)
    except argon2.exceptions.VerificationError:
        return False


if __name__ == "__main__":
    uvicorn.run(
        "bench.floor_app:create_app",
        factory=True,
        host="127.0.0.1",
        port=int(os.environ["PORT"]),
        workers=int(os.environ.get("WORKERS", "1")),
        log_level="warning",
        proxy_headers=False,
        server_header=False,
    )
