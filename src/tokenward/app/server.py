"""The ASGI application that `tokenward serve` runs."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from starlette.applications import Starlette

from tokenward.app.auth import Auth
from tokenward.app.routes import core_api_routes
from tokenward.config import Settings, settings_from_json
from tokenward.http.errors import unexpected
from tokenward.shared.clock import Clock
from tokenward.shared.email_delivery import EmailSender
from tokenward.shared.sms_delivery import SmsSender

RESOLVED_SETTINGS_ENV = "_TOKENWARD_RESOLVED_SETTINGS"


def create_app(
    settings: Settings,
    *,
    clock: Clock | None = None,
    email_sender: EmailSender | None = None,
    sms_sender: SmsSender | None = None,
) -> Starlette:
    """The standalone server. It refuses to start on an out-of-date schema (run `tokenward
    migrate`). ``clock``, ``email_sender`` and ``sms_sender`` replace the system clock and the
    configured mail and SMS backends (tests)."""
    auth = Auth(
        settings,
        migrate_on_start=False,
        clock=clock,
        email_sender=email_sender,
        sms_sender=sms_sender,
    )

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        async with auth.lifespan():
            yield

    app = Starlette(lifespan=lifespan, exception_handlers={Exception: unexpected})
    app.state.auth = auth
    auth.install(app)
    app.router.routes.extend(core_api_routes())
    return app


def app_from_environment() -> Starlette:
    """Factory for uvicorn worker processes: the CLI resolved the settings and passed them on."""
    return create_app(settings_from_json(os.environ[RESOLVED_SETTINGS_ENV]))
