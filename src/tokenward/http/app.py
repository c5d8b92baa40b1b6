"""The ASGI application that `tokenward serve` runs."""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager, suppress

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from tokenward.config import Settings, settings_from_json
from tokenward.core.claims import ClaimValidator
from tokenward.http.errors import HANDLERS
from tokenward.http.fdi import email_password, email_verification, session
from tokenward.http.health import hello
from tokenward.http.jwks import jwks
from tokenward.http.state import Runtime
from tokenward.http.transport import TokenTransport
from tokenward.service.clock import Clock, SystemClock
from tokenward.service.email_delivery import EmailSender
from tokenward.service.email_verification import EMAIL_VERIFIED, Mode
from tokenward.service.maintenance import cleanup_forever
from tokenward.service.setup import Services, open_services
from tokenward.store import Stores, migrate

Endpoint = Callable[[Request], Awaitable[Response]]
RESOLVED_SETTINGS_ENV = "_TOKENWARD_RESOLVED_SETTINGS"
# Headers the frontend SDKs send (SuperTokens' list) plus content-type.
CORS_ALLOW_HEADERS = [
    "content-type",
    "rid",
    "fdi-version",
    "anti-csrf",
    "authorization",
    "st-auth-mode",
]

log = logging.getLogger("tokenward")


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


def global_claim_validators(settings: Settings) -> tuple[ClaimValidator, ...]:
    if settings.email_verification == Mode.REQUIRED:
        return (EMAIL_VERIFIED.has_value(True),)
    return ()


def create_app(
    settings: Settings, *, clock: Clock | None = None, email_sender: EmailSender | None = None
) -> Starlette:
    """Build the server application. Its lifespan opens the database, refuses to start on an
    out-of-date schema, runs the periodic cleanup, and closes the database on shutdown.
    ``clock`` and ``email_sender`` replace the system clock and the configured mail backend."""
    used_clock = clock or SystemClock()

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        stores = Stores.open(settings.database_url)
        cleaner: asyncio.Task[None] | None = None
        services: Services | None = None
        try:
            await migrate.require_current(stores.db)
            services = await open_services(settings, stores, used_clock, sender=email_sender)
            app.state.runtime = Runtime(
                settings=settings,
                stores=stores,
                services=services,
                transport=TokenTransport(settings, used_clock),
                clock=used_clock,
                claim_validators=global_claim_validators(settings),
            )
            cleaner = asyncio.create_task(
                cleanup_forever(
                    stores, services.keys, used_clock, settings.session_cleanup_interval
                )
            )
            yield
        finally:
            if cleaner is not None:
                cleaner.cancel()
                with suppress(asyncio.CancelledError):
                    await cleaner
            if services is not None:
                services.close()
            await stores.close()

    return Starlette(
        routes=routes(settings),
        middleware=[
            Middleware(
                CORSMiddleware,
                allow_origins=[settings.effective_website_domain],
                allow_credentials=True,
                allow_methods=["GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"],
                allow_headers=CORS_ALLOW_HEADERS,
            )
        ],
        exception_handlers=HANDLERS,
        lifespan=lifespan,
    )


def app_from_environment() -> Starlette:
    """Factory for uvicorn worker processes: the CLI resolved the settings and passed them on."""
    return create_app(settings_from_json(os.environ[RESOLVED_SETTINGS_ENV]))
