"""Every route tokenward serves, built from the recipes' records: the frontend API (FDI) with
its rate limits and OpenAPI document, the login pages, and the core API (CDI)."""

from __future__ import annotations

from collections.abc import Sequence

from starlette.requests import Request
from starlette.routing import BaseRoute, Route

from tokenward.app.recipes import RECIPES
from tokenward.config import Settings
from tokenward.http.context import runtime
from tokenward.http.core_api_version import api_version
from tokenward.http.health import hello
from tokenward.http.openapi import HELLO, ApiRoute, openapi_route
from tokenward.http.records import RecipeRecord, tenanted_paths
from tokenward.http.ui import ui_routes
from tokenward.recipes.users.cdi import update_user


def routes(settings: Settings, recipes: Sequence[RecipeRecord] = RECIPES) -> list[BaseRoute]:
    """The frontend API of ``recipes`` under the API base path, its OpenAPI document, and the
    login pages."""
    base = settings.api_base_path.rstrip("/")
    api: list[BaseRoute] = [
        ApiRoute("/hello", hello, method="GET", operation=HELLO, tenant_segment=False)
    ]
    for recipe in recipes:
        for route in recipe.frontend:
            endpoint = route.endpoint if route.limit is None else route.limit.wrap(route.endpoint)
            prefix = "" if route.absolute else base
            for path in tenanted_paths(route.path, route.tenanted):
                api.append(
                    ApiRoute(
                        prefix + path,
                        endpoint,
                        method=route.method,
                        operation=route.operation,
                        tenant_segment=path != route.path,
                    )
                )
    return [*api, openapi_route(settings, api, _sign_up_fields), *ui_routes(settings)]


def core_api_routes(recipes: Sequence[RecipeRecord] = RECIPES) -> list[Route]:
    """The core API (CDI) of ``recipes``, as `tokenward serve` offers it."""
    core = [Route("/apiversion", api_version, methods=["GET"])]
    updates = {r.recipe_id: r.user_update for r in recipes if r.user_update is not None}
    core.append(Route("/recipe/user", update_user(updates), methods=["PUT"]))
    for recipe in recipes:
        for route in recipe.core:
            core.extend(
                Route(path, route.endpoint, methods=[route.method])
                for path in tenanted_paths(route.path, route.tenanted)
            )
    return core


def _sign_up_fields(request: Request) -> list[str]:
    return [field.id for field in runtime(request).hooks.sign_up_fields]
