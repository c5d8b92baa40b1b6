"""The session recipe: refresh and sign-out (FDI), sessions for backend SDKs (CDI)."""

from __future__ import annotations

from tokenward.http import rate_limiting as rl
from tokenward.http.openapi import Operation
from tokenward.http.records import CoreRoute, FrontendRoute, RecipeRecord
from tokenward.http.schemas import StatusOK
from tokenward.recipes.session import cdi, fdi
from tokenward.recipes.session import schemas as s
from tokenward.recipes.session.settings import SessionSettings
from tokenward.shared.database import schema

SESSION = "Session Recipe"

RECORD = RecipeRecord(
    recipe_id="session",
    frontend=(
        FrontendRoute(
            "POST", "/session/refresh", fdi.refresh,
            Operation(
                "refresh", "Exchange the refresh token for new tokens", SESSION, s.Refreshed,
                rid="session", session="refresh", issues_tokens=True,
            ),
            limit=rl.Limit(rl.refresh),
        ),
        FrontendRoute(
            "POST", "/signout", fdi.sign_out,
            Operation(
                "signout", "Sign out: revoke the session and clear its tokens", SESSION,
                StatusOK, rid="session", session="access",
            ),
        ),
    ),
    core=(
        CoreRoute("POST", "/recipe/session", cdi.create, tenanted=True),
        CoreRoute("GET", "/recipe/session", cdi.get_session),
        CoreRoute("POST", "/recipe/session/verify", cdi.verify),
        CoreRoute("POST", "/recipe/session/refresh", cdi.refresh),
        CoreRoute("POST", "/recipe/session/regenerate", cdi.regenerate),
        CoreRoute("POST", "/recipe/session/remove", cdi.remove, tenanted=True),
        CoreRoute("GET", "/recipe/session/user", cdi.user_sessions, tenanted=True),
        CoreRoute("PUT", "/recipe/session/data", cdi.put_data),
        CoreRoute("PUT", "/recipe/jwt/data", cdi.put_jwt_data),
    ),
    tables=(schema.sessions,),
    settings=SessionSettings,
)  # fmt: skip
