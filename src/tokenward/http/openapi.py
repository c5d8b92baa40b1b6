"""The OpenAPI 3.1 document of the frontend API, generated from the route table and the body models
(each recipe's ``schemas``, the shared ones in ``http.schemas``), served at
``{api_base_path}/openapi.json``.

Every route of the table is an ``ApiRoute`` carrying the operation its recipe's record declares:
``document`` refuses a route it cannot describe, so the document cannot drift from the routes.
Routes created with ``include_in_schema=False`` (web pages) are left out."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel
from pydantic.json_schema import JsonSchemaMode, models_json_schema
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from tokenward.__about__ import __version__
from tokenward.config import Settings
from tokenward.http import schemas as s
from tokenward.http.fetch_metadata import SAFE_METHODS
from tokenward.http.requests import Endpoint
from tokenward.http.tenants import TENANT_ID_PATTERN
from tokenward.http.transport import (
    ACCESS_COOKIE,
    ACCESS_HEADER,
    ANTI_CSRF_HEADER,
    AUTH_MODE_HEADER,
    EXPOSE_HEADER,
    FRONT_TOKEN_HEADER,
    REFRESH_COOKIE,
    REFRESH_HEADER,
)

OPENAPI_PATH = "/openapi.json"
Session = Literal["access", "refresh"]


@dataclass(frozen=True, slots=True)
class Operation:
    operation_id: str
    summary: str
    tag: str
    ok: type[BaseModel] | None
    """The 200 body's model; None: text/plain."""
    body: type[BaseModel] | None = None
    form: type[BaseModel] | None = None
    """A form-urlencoded body (what a provider posts through the browser), instead of JSON."""
    redirects: bool = False
    """Answers 303 with a ``Location`` instead of 200."""
    rid: str | None = None
    """The ``rid`` header the SDKs send."""
    session: Session | None = None
    second_factor: bool = False
    """With ``shouldTryLinkingWithSessionUser: true`` the call needs a session (MFA): 401
    without one, 403 when the session may not use the factor."""
    issues_tokens: bool = False
    query: str | None = None
    """The one required query parameter (``email``, ``phoneNumber``)."""
    frontend: bool = True
    """A frontend API call: may be rate limited (429)."""
    database: bool = True
    """Needs the database: 503 when it is unavailable."""
    deprecated: bool = False


class UndocumentedRoute(Exception):
    """A route of the table carries no operation (it is not an ``ApiRoute``)."""


class ApiRoute(Route):
    """A route of the API that carries its OpenAPI operation (recipes declare them in their
    records; ``tokenward.app.routes`` makes these)."""

    def __init__(
        self,
        path: str,
        endpoint: Endpoint,
        *,
        method: str,
        operation: Operation,
        tenant_segment: bool,
    ) -> None:
        super().__init__(path, endpoint, methods=[method])
        self.operation = operation
        self.tenant_segment = tenant_segment


HELLO = Operation(
    "hello",
    "Liveness: 200 when the server and its database are usable",
    "Server",
    None,
    frontend=False,
)
OPENAPI = Operation(
    "getOpenAPI", "This document", "Server", s.OpenApiDocument, frontend=False, database=False
)  # fmt: skip


def _header(description: str, schema: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"description": description, "schema": schema or {"type": "string"}}


TOKEN_HEADERS = {
    ACCESS_HEADER: _header("New access token (header mode); empty: clear it"),
    REFRESH_HEADER: _header("New refresh token (header mode); empty: clear it"),
    FRONT_TOKEN_HEADER: _header(
        "The access token's payload for the frontend; 'remove': signed out"
    ),
    ANTI_CSRF_HEADER: _header("Anti-CSRF token (cookie mode, VIA_TOKEN)"),
    EXPOSE_HEADER: _header("The token headers above, for cross-origin frontends"),
    "Set-Cookie": _header(f"{ACCESS_COOKIE} and {REFRESH_COOKIE} (cookie mode)"),
}
RETRY_AFTER = {"Retry-After": _header("Seconds to wait", {"type": "string", "pattern": "^[0-9]+$"})}
TEXT = {"content": {"text/plain": {"schema": {"type": "string"}}}}
SECURITY_SCHEMES = {
    "AccessTokenBearer": {"type": "http", "scheme": "bearer", "description": "st-access-token"},
    "AccessTokenCookie": {"type": "apiKey", "in": "cookie", "name": ACCESS_COOKIE},
    "RefreshTokenBearer": {"type": "http", "scheme": "bearer", "description": "st-refresh-token"},
    "RefreshTokenCookie": {"type": "apiKey", "in": "cookie", "name": REFRESH_COOKIE},
}
SECURITY: dict[Session, list[dict[str, list[str]]]] = {
    "access": [{"AccessTokenBearer": []}, {"AccessTokenCookie": []}],
    "refresh": [{"RefreshTokenBearer": []}, {"RefreshTokenCookie": []}],
}


def openapi_route(
    settings: Settings, api: Sequence[BaseRoute], sign_up_fields: Callable[[Request], Sequence[str]]
) -> Route:
    """GET {api_base_path}/openapi.json, describing ``api`` and itself (built on first use);
    ``sign_up_fields`` names the app's own sign-up form fields."""
    built: dict[str, Any] = {}

    async def openapi_json(request: Request) -> Response:
        if not built:
            extra = sign_up_fields(request)
            built.update(document([*api, route], settings, sign_up_fields=extra))
        return JSONResponse(built)

    path = settings.api_base_path.rstrip("/") + OPENAPI_PATH
    route = ApiRoute(path, openapi_json, method="GET", operation=OPENAPI, tenant_segment=False)
    return route


def document(
    routes: Iterable[BaseRoute], settings: Settings, *, sign_up_fields: Sequence[str] = ()
) -> dict[str, Any]:
    """The document of ``routes``; sign-up accepts ``sign_up_fields`` (the app's own form
    fields, ``Hooks.sign_up_fields``) besides the credentials."""
    described: list[tuple[str, str, Operation, bool]] = []
    for route in routes:
        if not isinstance(route, Route) or not route.include_in_schema:
            continue
        for method in sorted((route.methods or set()) - {"HEAD"}):
            if not isinstance(route, ApiRoute):
                raise UndocumentedRoute(f"{method} {route.path}: declare it in a recipe's record")
            described.append((route.path, method, route.operation, route.tenant_segment))
    schemas = _component_schemas(op for _, _, op, _ in described)
    if "FormField" in schemas:
        schemas["FormField"]["properties"]["id"]["enum"] = [*s.CREDENTIALS, *sign_up_fields]
    paths: dict[str, dict[str, Any]] = {}
    for path, method, operation, tenanted in described:
        paths.setdefault(path, {})[method.lower()] = _operation(
            operation, method, tenanted, settings
        )
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "tokenward frontend API (FDI)",
            "version": __version__,
            "description": "The routes SuperTokens' frontend SDKs call, as tokenward serves them. "
            "Business outcomes are HTTP 200 with a `status`.",
        },
        "paths": paths,
        "components": {"schemas": schemas, "securitySchemes": SECURITY_SCHEMES},
    }


def _component_schemas(operations: Iterable[Operation]) -> dict[str, Any]:
    models: dict[tuple[type[BaseModel], JsonSchemaMode], None] = {
        (s.Message, "serialization"): None
    }
    for op in operations:
        for body in (op.body, op.form):
            if body is not None:
                models[(body, "validation")] = None
        if op.ok is not None:
            models[(op.ok, "serialization")] = None
    _, top = models_json_schema(list(models), ref_template="#/components/schemas/{model}")
    defs: dict[str, Any] = top.get("$defs", {})
    return defs


def _ref(model: type[BaseModel]) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{model.__name__}"}


def _json(
    description: str, model: type[BaseModel], headers: dict[str, Any] | None = None
) -> dict[str, Any]:
    answer: dict[str, Any] = {
        "description": description,
        "content": {"application/json": {"schema": _ref(model)}},
    }
    if headers:
        answer["headers"] = headers
    return answer


def _operation(op: Operation, method: str, tenanted: bool, settings: Settings) -> dict[str, Any]:
    parameters: list[dict[str, Any]] = []
    if tenanted:
        parameters.append(
            {
                "name": "tenant_id",
                "in": "path",
                "required": True,
                "description": "The tenant; without this segment, the default tenant 'public'",
                "schema": {"type": "string", "pattern": f"^{TENANT_ID_PATTERN}$"},
            }
        )
    if op.query is not None:
        parameters.append(
            {
                "name": op.query,
                "in": "query",
                "required": True,
                "schema": {"type": "string", "minLength": 1},
            }
        )
    if op.rid is not None:
        parameters.append(
            {
                "name": "rid",
                "in": "header",
                "description": f"The recipe id ('{op.rid}'); with cookie sessions its presence "
                "is the anti-CSRF check",
                "schema": {"type": "string"},
            }
        )
    if op.issues_tokens and op.session is None:
        parameters.append(
            {
                "name": AUTH_MODE_HEADER,
                "in": "header",
                "description": "Where the new session's tokens go: 'cookie' for cookies, "
                "anything else ('header') for headers",
                "schema": {"type": "string", "examples": ["header", "cookie"]},
            }
        )
    if op.session is not None:
        parameters.append(
            {
                "name": ANTI_CSRF_HEADER,
                "in": "header",
                "description": "The anti-CSRF token (cookie sessions with anti_csrf VIA_TOKEN)",
                "schema": {"type": "string"},
            }
        )
    tokens = TOKEN_HEADERS if op.issues_tokens or op.session is not None else None
    if op.ok is None:
        ok: dict[str, Any] = {"description": "OK", **TEXT}
    else:
        ok = _json("OK; business outcomes are told apart by `status`", op.ok, tokens)
    responses: dict[str, Any] = {"200": ok}
    if op.redirects:
        location = {"Location": {"schema": {"type": "string"}, "description": "Where to go"}}
        responses = {"303": {"description": "Back to the website", "headers": location}}
    if op.body is not None or op.form is not None or op.query is not None or tenanted:
        responses["400"] = _json("Malformed request, invalid or unknown tenant", s.Message)
    if op.session is not None or op.second_factor:
        responses["401"] = _json(
            "No valid session; the tokens may be cleared", s.Message, TOKEN_HEADERS
        )
    if op.session == "access":
        expired = str(settings.session_expired_status_code)
        responses.setdefault(expired, _json("The access token expired: refresh it", s.Message))
    if op.frontend and method not in SAFE_METHODS and (op.session == "access" or op.second_factor):
        responses["403"] = _json(
            "Cross-origin request refused, or the session fails a claim check", s.Refused
        )
    elif op.frontend and method not in SAFE_METHODS:
        responses["403"] = _json("Cross-origin request refused (Origin, Sec-Fetch-Site)", s.Message)
    if op.body is not None or op.form is not None:
        responses["413"] = _json("The body is larger than 64 KiB", s.Message)
    if op.frontend:
        responses["429"] = _json("Too many requests: retry later", s.Message, RETRY_AFTER)
    if op.database:
        unavailable = "The database (or the password hashers) cannot serve now: retry later"
        if op.ok is None:
            responses["503"] = {"description": unavailable, "headers": RETRY_AFTER, **TEXT}
        else:
            responses["503"] = _json(unavailable, s.Message, RETRY_AFTER)
    operation: dict[str, Any] = {
        "operationId": op.operation_id + ("ForTenant" if tenanted else ""),
        "summary": op.summary,
        "tags": [op.tag],
        "parameters": parameters,
        "responses": responses,
    }
    if op.body is not None:
        operation["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": _ref(op.body)}},
        }
    if op.form is not None:
        operation["requestBody"] = {
            "required": True,
            "content": {"application/x-www-form-urlencoded": {"schema": _ref(op.form)}},
        }
    if op.session is not None:
        operation["security"] = SECURITY[op.session]
    if op.deprecated:
        operation["deprecated"] = True
    return operation
