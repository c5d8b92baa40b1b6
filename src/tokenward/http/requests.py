"""Route handlers (``Endpoint``), and reading request bodies strictly: bounded in size as they
stream in, declared as JSON (IN-07: a ``text/plain`` or form body is what a cross-site page can
send without a CORS preflight), then a JSON object or a clear 400."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from tokenward.shared.encoding import json_loads_object

MAX_BODY_BYTES = 64 * 1024

Endpoint = Callable[[Request], Awaitable[Response]]
"""A route handler: a request in, a response out."""


class BadRequest(Exception):
    """The request is malformed; answered 400 with this message."""


class PayloadTooLarge(Exception):
    """The body passed the limit; answered 413. Reading stopped there."""


class UnsupportedMediaType(Exception):
    """A body that is not declared ``application/json``; answered 415."""


async def read_body(request: Request, limit: int = MAX_BODY_BYTES) -> bytes:
    """The body, refusing more than ``limit`` bytes whether or not Content-Length is sent
    (a chunked upload is cut off as soon as it passes the limit, not after it was buffered)."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise PayloadTooLarge
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise PayloadTooLarge
        chunks.append(chunk)
    return b"".join(chunks)


def is_json(content_type: str | None) -> bool:
    return (content_type or "").split(";", 1)[0].strip().lower() == "application/json"


async def json_body(request: Request) -> dict[str, Any]:
    raw = await read_body(request)
    if raw.strip() and not is_json(request.headers.get("content-type")):
        raise UnsupportedMediaType
    if not raw.strip():
        raise BadRequest("Request body must be a JSON object")
    try:
        return json_loads_object(raw, storable=True)
    except ValueError:
        raise BadRequest("Request body must be a JSON object") from None
