"""CDI transport rules: the API key, the ``cdi-version`` header, and text errors with the core's
status codes (401 "Invalid API key", 400 bad input).

Without configured API keys the core API is closed (401 to everyone): SuperTokens' core would be
open, and an open core lets anyone mint sessions for any user. Trusting loopback clients instead
would not be safe either: behind a reverse proxy on the same host, every request is loopback.
"""

from __future__ import annotations

import functools
import hmac
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response

from tokenward.http.context import runtime
from tokenward.http.requests import Endpoint, PayloadTooLarge, read_body
from tokenward.shared.encoding import json_loads_object

SUPPORTED_CDI_VERSIONS = ("5.4",)
MAX_BODY_BYTES = 256 * 1024


class CdiBadRequest(Exception):
    """Answered 400 with this text, as the core does."""


def _presented_key(request: Request) -> str | None:
    key = request.headers.get("api-key")
    if key:
        return key
    authorization = request.headers.get("authorization", "")
    if authorization[:7].lower() == "bearer ":
        return authorization[7:].strip() or None
    return None


def api_key_ok(request: Request) -> bool:
    keys = runtime(request).settings.api_keys
    if not keys:
        return False
    presented = _presented_key(request)
    if presented is None:
        return False
    candidate = presented.encode()
    # Compare with every key, always, so timing does not tell which one (or whether any) matched.
    matches = [hmac.compare_digest(candidate, k.get_secret_value().encode()) for k in keys]
    return any(matches)


def cdi(endpoint: Endpoint) -> Endpoint:
    """Wrap a CDI endpoint with the key and version checks and the text error mapping."""

    @functools.wraps(endpoint)
    async def guarded(request: Request) -> Response:
        if not api_key_ok(request):
            return PlainTextResponse("Invalid API key", status_code=401)
        version = request.headers.get("cdi-version")
        if version is not None and version not in SUPPORTED_CDI_VERSIONS:
            return PlainTextResponse(f"cdi-version {version[:16]} not supported", 400)
        try:
            return await endpoint(request)
        except CdiBadRequest as exc:
            return PlainTextResponse(str(exc), status_code=400)
        except PayloadTooLarge:
            return PlainTextResponse("Request body too large", status_code=413)

    return guarded


async def body(request: Request) -> dict[str, Any]:
    raw = await read_body(request, MAX_BODY_BYTES)
    try:
        return json_loads_object(raw, storable=True)
    except ValueError:
        raise CdiBadRequest("Invalid Json Input") from None


def query_field(request: Request, name: str) -> str:
    value = request.query_params.get(name)
    if not value:
        raise CdiBadRequest(f"Field name '{name}' is missing in GET request")
    return value


def string_field(data: dict[str, Any], name: str) -> str:
    value = data.get(name)
    if not isinstance(value, str) or not value:
        raise CdiBadRequest(f"Field name '{name}' is invalid in JSON input")
    return value


def object_field(data: dict[str, Any], name: str) -> dict[str, Any]:
    value = data.get(name)
    if not isinstance(value, dict):
        raise CdiBadRequest(f"Field name '{name}' is invalid in JSON input")
    return value


def ok(**fields: Any) -> Response:
    return JSONResponse({"status": "OK", **fields})


def status(name: str, message: str | None = None, **fields: Any) -> Response:
    return JSONResponse({"status": name, **({"message": message} if message else {}), **fields})
