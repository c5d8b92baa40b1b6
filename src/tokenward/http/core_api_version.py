"""GET /apiversion: the CDI versions this core speaks (the SDK picks the highest shared one)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response

from tokenward.http.core_api import SUPPORTED_CDI_VERSIONS, api_key_ok


async def api_version(request: Request) -> Response:
    # Checks the key but not the cdi-version header, as the core does.
    if not api_key_ok(request):
        return PlainTextResponse("Invalid API key", status_code=401)
    return JSONResponse({"versions": list(SUPPORTED_CDI_VERSIONS)})
