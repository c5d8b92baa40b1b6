"""The JWT recipe: the signing keys and their public half (JWKS)."""

from __future__ import annotations

from tokenward.http.openapi import Operation
from tokenward.http.records import FrontendRoute, RecipeRecord
from tokenward.recipes.jwt import fdi
from tokenward.recipes.jwt import schemas as s
from tokenward.recipes.jwt.settings import JwtSettings
from tokenward.shared.database import schema

KEYS = "JWT Recipe"
JWKS = "Public keys of live access tokens"

RECORD = RecipeRecord(
    recipe_id="jwt",
    frontend=(
        FrontendRoute(
            "GET", "/.well-known/jwks.json", fdi.jwks,
            Operation("getJWKSWellKnown", JWKS, KEYS, s.Jwks, frontend=False),
            absolute=True,
        ),
        FrontendRoute(
            "GET", "/jwt/jwks.json", fdi.jwks,
            Operation("getJWKS", JWKS, KEYS, s.Jwks, frontend=False),
        ),
    ),
    tables=(schema.signing_keys, schema.app_secrets),
    settings=JwtSettings,
)  # fmt: skip
