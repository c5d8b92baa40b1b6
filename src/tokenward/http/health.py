"""GET /hello: 200 when the server and its database are usable, 503 when the database is not."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response

from tokenward.http.context import runtime
from tokenward.http.errors import RETRY_AFTER_SECONDS
from tokenward.shared.database.errors import StoreUnavailable


async def hello(request: Request) -> Response:
    try:
        await runtime(request).stores.db.ping()
    except StoreUnavailable:
        return PlainTextResponse(
            "Database unavailable",
            status_code=503,
            headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
        )
    return PlainTextResponse("Hello")
