"""Reading request bodies strictly: a JSON object, or a clear 400."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request

from tokenward.core.encoding import json_loads_object

MAX_BODY_BYTES = 64 * 1024


class BadRequest(Exception):
    """The request is malformed; answered 400 with this message."""


async def json_body(request: Request) -> dict[str, Any]:
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        raise BadRequest("Request body is too large")
    raw = await request.body()
    if len(raw) > MAX_BODY_BYTES:
        raise BadRequest("Request body is too large")
    if not raw.strip():
        raise BadRequest("Request body must be a JSON object")
    try:
        return json_loads_object(raw)
    except ValueError:
        raise BadRequest("Request body must be a JSON object") from None
