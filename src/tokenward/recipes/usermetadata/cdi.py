"""Core API (CDI) user-metadata endpoints (SuperTokens' usermetadata recipe)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from tokenward.http.context import runtime
from tokenward.http.core_api import (
    CdiBadRequest,
    body,
    cdi,
    object_field,
    ok,
    query_field,
    string_field,
)


@cdi
async def get_metadata(request: Request) -> Response:
    metadata = await runtime(request).services.user_metadata.get(query_field(request, "userId"))
    return ok(metadata=metadata)


@cdi
async def update_metadata(request: Request) -> Response:
    data = await body(request)
    try:
        metadata = await runtime(request).services.user_metadata.update(
            string_field(data, "userId"), object_field(data, "metadataUpdate")
        )
    except ValueError as exc:
        raise CdiBadRequest(str(exc)) from None
    return ok(metadata=metadata)


@cdi
async def remove_metadata(request: Request) -> Response:
    data = await body(request)
    await runtime(request).services.user_metadata.clear(string_field(data, "userId"))
    return ok()
