"""Every route tokenward serves: health, JWKS and the frontend API (FDI)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from tokenward.config import Settings
from tokenward.http.fdi import email_password, email_verification, session
from tokenward.http.health import hello
from tokenward.http.jwks import jwks

Endpoint = Callable[[Request], Awaitable[Response]]


def routes(settings: Settings) -> list[Route]:
    base = settings.api_base_path.rstrip("/")

    def tenanted(path: str, endpoint: Endpoint, method: str) -> list[Route]:
        """The route at /auth/<path> and at /auth/<tenant>/<path>."""
        return [
            Route(f"{base}{path}", endpoint, methods=[method]),
            Route(f"{base}/{{tenant_id}}{path}", endpoint, methods=[method]),
        ]

    return [
        Route("/hello", hello, methods=["GET"]),
        Route("/.well-known/jwks.json", jwks, methods=["GET"]),
        Route(f"{base}/jwt/jwks.json", jwks, methods=["GET"]),
        Route(f"{base}/session/refresh", session.refresh, methods=["POST"]),
        Route(f"{base}/signout", session.sign_out, methods=["POST"]),
        Route(f"{base}/user/email/verify/token", email_verification.send_link, methods=["POST"]),
        Route(f"{base}/user/email/verify", email_verification.is_verified, methods=["GET"]),
        *tenanted("/user/email/verify", email_verification.verify, "POST"),
        *tenanted("/signup", email_password.sign_up, "POST"),
        *tenanted("/signin", email_password.sign_in, "POST"),
        *tenanted("/emailpassword/email/exists", email_password.email_exists, "GET"),
        *tenanted("/signup/email/exists", email_password.email_exists, "GET"),
        *tenanted("/user/password/reset/token", email_password.send_reset_link, "POST"),
        *tenanted("/user/password/reset", email_password.reset_password, "POST"),
    ]
