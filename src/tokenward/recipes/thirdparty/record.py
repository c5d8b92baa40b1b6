"""The third-party recipe (social and enterprise sign-in). Its routes land with its handlers;
so far it holds the provider rules (see docs/architecture.md)."""

from __future__ import annotations

from tokenward.http.records import RecipeRecord

RECORD = RecipeRecord(recipe_id="thirdparty")
