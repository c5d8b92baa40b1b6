"""User metadata: one JSON object per user, through the core API."""

from __future__ import annotations

from tokenward.http.records import CoreRoute, RecipeRecord
from tokenward.recipes.usermetadata import cdi
from tokenward.shared.database import schema

RECORD = RecipeRecord(
    recipe_id="usermetadata",
    core=(
        CoreRoute("GET", "/recipe/user/metadata", cdi.get_metadata),
        CoreRoute("PUT", "/recipe/user/metadata", cdi.update_metadata),
        CoreRoute("POST", "/recipe/user/metadata/remove", cdi.remove_metadata),
    ),
    tables=(schema.user_metadata,),
)
