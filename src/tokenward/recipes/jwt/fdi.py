"""GET /.well-known/jwks.json (and {base}/jwt/jwks.json): the public keys of live tokens."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from tokenward.http.context import runtime


async def jwks(request: Request) -> Response:
    document, max_age = await runtime(request).services.keys.jwks()
    return JSONResponse(document, headers={"Cache-Control": f"max-age={max_age}, must-revalidate"})
