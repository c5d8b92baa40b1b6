"""The one place where exceptions become HTTP responses. Bodies never carry tracebacks or SQL."""

from __future__ import annotations

import logging

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import ExceptionHandler

from tokenward.store.errors import StoreUnavailable

log = logging.getLogger("tokenward.http")

RETRY_AFTER_SECONDS = 5


async def store_unavailable(request: Request, exc: Exception) -> Response:
    log.warning("database unavailable during %s %s", request.method, request.url.path)
    return JSONResponse(
        {"message": "The service is temporarily unavailable; please retry."},
        status_code=503,
        headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
    )


async def unexpected(request: Request, exc: Exception) -> Response:
    log.exception("unhandled error during %s %s", request.method, request.url.path)
    return JSONResponse({"message": "Internal error"}, status_code=500)


HANDLERS: dict[type[Exception] | int, ExceptionHandler] = {
    StoreUnavailable: store_unavailable,
    Exception: unexpected,
}
