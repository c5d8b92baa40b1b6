"""Reading request bodies strictly: bounded in size as they stream in, then a JSON object or a
clear 400."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request

from tokenward.core.encoding import json_loads_object

MAX_BODY_BYTES = 64 * 1024


class BadRequest(Exception):
    """The request is malformed; answered 400 with this message."""


class PayloadTooLarge(Exception):
    """The body passed the limit; answered 413. Reading stopped there."""


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


async def json_body(request: Request) -> dict[str, Any]:
    raw = await read_body(request)
    if not raw.strip():
        raise BadRequest("Request body must be a JSON object")
    try:
        return json_loads_object(raw, storable=True)
    except ValueError:
        raise BadRequest("Request body must be a JSON object") from None
