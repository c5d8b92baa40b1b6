"""The ``user`` object of the FDI (≥ 3.0) and of the core API: SuperTokens' SDKs build and parse
the same shape on both sides."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from tokenward.recipes.users.port import UserRecord


def user_json(user: UserRecord, verified: Mapping[str, bool]) -> dict[str, Any]:
    methods = [
        {
            "recipeId": m.recipe_id,
            "recipeUserId": m.recipe_user_id,
            "tenantIds": list(m.tenant_ids),
            "timeJoined": m.time_joined,
            "verified": verified.get(m.recipe_user_id, False),
            **({"email": m.email} if m.email is not None else {}),
            **({"phoneNumber": m.phone_number} if m.phone_number is not None else {}),
            **(
                {"thirdParty": {"id": m.third_party_id, "userId": m.third_party_user_id}}
                if m.third_party_id is not None
                else {}
            ),
        }
        for m in user.login_methods
    ]
    return {
        "id": user.user_id,
        "isPrimaryUser": False,
        "tenantIds": list(user.tenant_ids),
        "timeJoined": user.time_joined,
        "emails": _unique(m.email for m in user.login_methods),
        "phoneNumbers": _unique(m.phone_number for m in user.login_methods),
        "thirdParty": [
            {"id": m.third_party_id, "userId": m.third_party_user_id}
            for m in user.login_methods
            if m.third_party_id is not None
        ],
        "webauthn": {"credentialIds": []},
        "loginMethods": methods,
    }


def _unique(values: Any) -> list[str]:
    return list(dict.fromkeys(v for v in values if v is not None))
