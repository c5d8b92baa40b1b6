"""The record a recipe declares in its ``record.py``: everything the app is built from.

A recipe's routes (frontend API with their OpenAPI operation and rate limit, core API), its
settings model, its tables and its session claims are listed in one place. ``tokenward.app``
builds the ASGI routes, the OpenAPI document and the rate limits from the enabled recipes'
records, so adding a route is one edit in the recipe's record.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel
from sqlalchemy import Table
from starlette.requests import Request
from starlette.responses import Response

from tokenward.http.openapi import Operation
from tokenward.http.rate_limiting import Limit, SignInLimit
from tokenward.http.requests import Endpoint
from tokenward.recipes.users.port import LoginMethodRecord
from tokenward.shared.claims import BooleanClaim, PrimitiveArrayClaim

TENANT_SEGMENT = "/{tenant_id}"

UserUpdate = Callable[[Request, dict[str, Any], LoginMethodRecord], Awaitable[Response]]
"""A login recipe's part of the core API's ``PUT /recipe/user``: the body and the login method
it names (of that recipe) in, the answer out."""


@dataclass(frozen=True, slots=True)
class FrontendRoute:
    """A route of the frontend API (FDI)."""

    method: str
    path: str
    """Below the API base path (``/signin``); with ``absolute``, the whole path."""
    endpoint: Endpoint
    operation: Operation
    tenanted: bool = False
    """Also served at ``/<tenant_id><path>``."""
    limit: Limit | SignInLimit | None = None
    """The rate limit the endpoint sits behind (when rate limiting is on)."""
    absolute: bool = False
    cross_site: bool = False
    """Another site's page posts here through the browser by design (Apple's ``form_post``),
    so the cross-origin guard lets it through: only for a route that changes nothing."""


@dataclass(frozen=True, slots=True)
class CoreRoute:
    """A route of the core API (CDI), which backend SDKs call with an API key."""

    method: str
    path: str
    endpoint: Endpoint
    tenanted: bool = False
    """Also served at ``/<tenant_id><path>`` (supertokens-python always sends the prefix)."""


@dataclass(frozen=True, slots=True)
class RecipeRecord:
    recipe_id: str
    """SuperTokens' recipe id (the ``rid`` header the SDKs send)."""
    frontend: tuple[FrontendRoute, ...] = ()
    core: tuple[CoreRoute, ...] = ()
    tables: tuple[Table, ...] = ()
    """The recipe's tables; their migrations are in ``shared.database.migrations``."""
    claims: tuple[BooleanClaim | PrimitiveArrayClaim, ...] = ()
    """The session claims the recipe owns (in the access token payload)."""
    user_update: UserUpdate | None = None
    """How ``PUT /recipe/user`` changes a login method of this recipe (email, phone, password)."""
    settings: type[BaseModel] | None = None
    """The recipe's settings model, one of the models ``tokenward.config.Settings`` is composed
    of (its fields keep their flat ``TOKENWARD_<NAME>`` names)."""


def tenanted_paths(path: str, tenanted: bool) -> list[str]:
    """``path`` and, for tenant-scoped routes, ``/<tenant_id><path>``."""
    return [path, f"{TENANT_SEGMENT}{path}"] if tenanted else [path]
