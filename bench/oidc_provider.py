"""The local OpenID provider of figure 8: what tokenward and the social floor endpoint both
exchange their codes with, in a process of its own.

It serves a discovery document (no userinfo endpoint: both sides take the user from the id
token alone), its JWKS (one RSA key, made at start), and a token endpoint that accepts any code
from its one client and answers with a freshly RS256-signed id token: ``iss`` its own URL,
``aud`` the client id, ``sub`` the code up to its first dot (the bench picks codes so that
some subjects sign up and others sign in again), ``email`` ``<sub>@example.com``, verified.
``GET /stats`` gives the tokens issued and the process's CPU time, so that a run can say what
share of the machine the provider took. Run as

    python -m bench.oidc_provider   (PORT, CLIENT_ID, CLIENT_SECRET in the environment)
"""

from __future__ import annotations

import json
import os
import secrets
import time
import uuid
from typing import Any
from urllib.parse import parse_qs

import jwt
import uvicorn
from cryptography.hazmat.primitives.asymmetric import rsa
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

TOKEN_LIFETIME_S = 3600


def create_app() -> Starlette:
    issuer = f"http://127.0.0.1:{os.environ['PORT']}"
    client_id, client_secret = os.environ["CLIENT_ID"], os.environ["CLIENT_SECRET"]
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    kid = f"bench-{uuid.uuid4()}"
    public: dict[str, Any] = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key()))
    jwks = {"keys": [{**public, "kid": kid, "use": "sig", "alg": "RS256"}]}
    discovery = {
        "issuer": issuer,
        "authorization_endpoint": f"{issuer}/authorize",
        "token_endpoint": f"{issuer}/token",
        "jwks_uri": f"{issuer}/jwks",
        "response_types_supported": ["code"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["RS256"],
    }
    issued = [0]

    async def discovery_document(_request: Request) -> Response:
        return JSONResponse(discovery)

    async def keys(_request: Request) -> Response:
        return JSONResponse(jwks)

    async def token(request: Request) -> Response:
        form = {
            name: values[0] for name, values in parse_qs((await request.body()).decode()).items()
        }
        if form.get("client_id") != client_id or form.get("client_secret") != client_secret:
            return JSONResponse({"error": "invalid_client"}, status_code=401)
        code = form.get("code", "")
        if form.get("grant_type") != "authorization_code" or not code:
            return JSONResponse({"error": "invalid_grant"}, status_code=400)
        subject = code.split(".", 1)[0]
        now = int(time.time())
        claims = {
            "iss": issuer,
            "aud": client_id,
            "sub": subject,
            "email": f"{subject}@example.com",
            "email_verified": True,
            "iat": now,
            "exp": now + TOKEN_LIFETIME_S,
        }
        id_token = jwt.encode(claims, key, algorithm="RS256", headers={"kid": kid})
        issued[0] += 1
        return JSONResponse(
            {
                "access_token": secrets.token_urlsafe(24),
                "token_type": "Bearer",
                "expires_in": TOKEN_LIFETIME_S,
                "id_token": id_token,
            }
        )

    async def stats(_request: Request) -> Response:
        return JSONResponse({"tokens": issued[0], "cpu_s": time.process_time()})

    return Starlette(
        routes=[
            Route("/.well-known/openid-configuration", discovery_document),
            Route("/jwks", keys),
            Route("/token", token, methods=["POST"]),
            Route("/stats", stats),
        ]
    )


if __name__ == "__main__":
    uvicorn.run(
        "bench.oidc_provider:create_app",
        factory=True,
        host="127.0.0.1",
        port=int(os.environ["PORT"]),
        log_level="warning",
        proxy_headers=False,
        server_header=False,
    )
