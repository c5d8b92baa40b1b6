"""The ASGI application that `tokenward serve` runs."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from starlette.applications import Starlette
from starlette.routing import Route

from tokenward.config import Settings, settings_from_json
from tokenward.http.errors import HANDLERS
from tokenward.http.health import hello
from tokenward.http.state import Runtime
from tokenward.store import Stores, migrate

RESOLVED_SETTINGS_ENV = "_TOKENWARD_RESOLVED_SETTINGS"


def create_app(settings: Settings) -> Starlette:
    """Build the server application. Its lifespan opens the database, refuses to start on an
    out-of-date schema, and closes the database on shutdown."""

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        stores = Stores.open(settings.database_url)
        try:
            await migrate.require_current(stores.db)
            app.state.runtime = Runtime(settings=settings, stores=stores)
            yield
        finally:
            await stores.close()

    return Starlette(
        routes=[Route("/hello", hello, methods=["GET"])],
        exception_handlers=HANDLERS,
        lifespan=lifespan,
    )


def app_from_environment() -> Starlette:
    """Factory for uvicorn worker processes: the CLI resolved the settings and passed them on."""
    return create_app(settings_from_json(os.environ[RESOLVED_SETTINGS_ENV]))
