"""Every route tokenward serves: health, JWKS and the frontend API (FDI), the latter behind
its rate limits (``http.rate_limiting``)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from tokenward.config import Settings
from tokenward.http import rate_limiting as rl
from tokenward.http.fdi import email_password, email_verification, session
from tokenward.http.health import hello
from tokenward.http.jwks import jwks
from tokenward.http.openapi import openapi_route
from tokenward.http.ui import ui_routes

Endpoint = Callable[[Request], Awaitable[Response]]


def routes(settings: Settings) -> list[Route]:
    base = settings.api_base_path.rstrip("/")

    def tenanted(path: str, endpoint: Endpoint, method: str) -> list[Route]:
        """The route at /auth/<path> and at /auth/<tenant>/<path>."""
        return [
            Route(f"{base}{path}", endpoint, methods=[method]),
            Route(f"{base}/{{tenant_id}}{path}", endpoint, methods=[method]),
        ]

    email_exists = rl.limited(email_password.email_exists, rl.email_exists, rl.query_email)
    send_reset_link = rl.limited(email_password.send_reset_link, rl.emails, rl.form_email)
    api = [
        Route("/hello", hello, methods=["GET"]),
        Route("/.well-known/jwks.json", jwks, methods=["GET"]),
        Route(f"{base}/jwt/jwks.json", jwks, methods=["GET"]),
        Route(f"{base}/session/refresh", rl.limited(session.refresh, rl.refresh), methods=["POST"]),
        Route(f"{base}/signout", session.sign_out, methods=["POST"]),
        Route(
            f"{base}/user/email/verify/token",
            rl.limited(email_verification.send_link, rl.emails, rl.session_user),
            methods=["POST"],
        ),
        Route(f"{base}/user/email/verify", email_verification.is_verified, methods=["GET"]),
        *tenanted("/user/email/verify", email_verification.verify, "POST"),
        *tenanted("/signup", rl.limited(email_password.sign_up, rl.sign_up, rl.form_email), "POST"),
        *tenanted("/signin", rl.sign_in_limited(email_password.sign_in), "POST"),
        *tenanted("/emailpassword/email/exists", email_exists, "GET"),
        *tenanted("/signup/email/exists", email_exists, "GET"),
        *tenanted("/user/password/reset/token", send_reset_link, "POST"),
        *tenanted("/user/password/reset", email_password.reset_password, "POST"),
    ]
    return [*api, openapi_route(settings, api), *ui_routes(settings)]
