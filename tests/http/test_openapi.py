"""The OpenAPI document of the frontend API: generated from the route table, so that every route
has a documented operation, and served at {api_base_path}/openapi.json by an app that embeds
tokenward (`tokenward serve` is fuzzed against it in tests/e2e/test_fdi_fuzz.py)."""

from __future__ import annotations

import pytest
import schemathesis
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from tests.support.api import running_api
from tokenward.app.routes import routes
from tokenward.config import Settings, load_settings
from tokenward.http.openapi import UndocumentedRoute, document
from tokenward.http.ui import ui_routes

SQLITE = "sqlite:////nonexistent/unused.db"


def api_routes(settings: Settings) -> list[Route]:
    """The route table without the login pages (web pages, not API)."""
    pages = {(route.path, frozenset(route.methods or ())) for route in ui_routes(settings)}
    return [r for r in routes(settings) if (r.path, frozenset(r.methods or ())) not in pages]


def operations(doc: dict[str, object]) -> set[tuple[str, str]]:
    paths = doc["paths"]
    assert isinstance(paths, dict)
    return {(method.upper(), path) for path, item in paths.items() for method in item}


@pytest.mark.parametrize("base", ["/auth", "/api/v1/auth", "/"])
def test_every_route_of_the_table_has_a_documented_operation(base: str) -> None:
    settings = load_settings(overrides={"database_url": SQLITE, "api_base_path": base})
    table = api_routes(settings)
    doc = document(table, settings)
    assert operations(doc) == {
        (method, route.path)
        for route in table
        for method in route.methods or ()
        if method != "HEAD"
    }
    prefix = base.rstrip("/")
    assert (f"{prefix}/openapi.json", "GET") in {(p, m) for m, p in operations(doc)}
    assert ("POST", f"{prefix}/{{tenant_id}}/signin") in operations(doc)
    assert len(
        {op["operationId"] for item in doc["paths"].values() for op in item.values()}
    ) == len(operations(doc))
    schemathesis.openapi.from_dict(doc)  # a document schemathesis can load


async def page(request: Request) -> Response:
    return Response("<html></html>", media_type="text/html")


def test_a_route_without_an_operation_is_refused_and_web_pages_are_left_out() -> None:
    settings = load_settings(overrides={"database_url": SQLITE})
    with pytest.raises(UndocumentedRoute, match="GET /auth/new-thing"):
        document([*api_routes(settings), Route("/auth/new-thing", page)], settings)
    hidden = Route("/auth/welcome", page, include_in_schema=False)
    assert "/auth/welcome" not in document([*api_routes(settings), hidden], settings)["paths"]


def test_the_documented_statuses_follow_the_settings() -> None:
    settings = load_settings(overrides={"database_url": SQLITE, "session_expired_status_code": 440})
    paths = document(api_routes(settings), settings)["paths"]
    assert set(paths["/auth/user/email/verify"]["get"]["responses"]) == {
        "200", "401", "440", "429", "503",
    }  # fmt: skip
    assert "440" not in paths["/auth/session/refresh"]["post"]["responses"]  # refresh: 401 only
    sign_in = paths["/auth/{tenant_id}/signin"]["post"]
    assert set(sign_in["responses"]) == {"200", "400", "403", "413", "429", "503"}
    assert {p["name"] for p in sign_in["parameters"]} == {"tenant_id", "rid", "st-auth-mode"}
    assert set(sign_in["responses"]["200"]["headers"]) >= {
        "st-access-token", "st-refresh-token", "front-token", "anti-csrf", "Set-Cookie",
    }  # fmt: skip
    assert "Retry-After" in sign_in["responses"]["429"]["headers"]


def test_sign_up_lists_the_apps_own_form_fields() -> None:
    settings = load_settings(overrides={"database_url": SQLITE})
    doc = document(api_routes(settings), settings, sign_up_fields=["name", "company"])
    field_id = doc["components"]["schemas"]["FormField"]["properties"]["id"]
    assert field_id["enum"] == ["email", "password", "name", "company"]


async def test_an_embedding_app_serves_the_document(database_url: str) -> None:
    async with running_api(database_url, api_base_path="/api/auth") as api:
        response = await api.client.get("/api/auth/openapi.json")
        assert response.status_code == 200
        doc = response.json()
        assert doc["openapi"].startswith("3.1")
        assert "/api/auth/{tenant_id}/signup" in doc["paths"]
        form_field = doc["components"]["schemas"]["FormField"]
        assert form_field["properties"]["id"]["enum"] == ["email", "password"]
        assert doc["components"]["schemas"]["SignInResponse"]["discriminator"] == {
            "propertyName": "status",
            "mapping": {
                "OK": "#/components/schemas/SignedIn",
                "FIELD_ERROR": "#/components/schemas/FieldError",
                "WRONG_CREDENTIALS_ERROR": "#/components/schemas/WrongCredentials",
            },
        }
        assert (await api.client.get("/api/auth/openapi.json")).json() == doc
