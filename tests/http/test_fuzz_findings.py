"""What fuzzing the frontend API against its OpenAPI document found (tests/e2e/test_fdi_fuzz.py,
and schemathesis' CLI with every check), kept as regressions."""

from __future__ import annotations

import pytest

from tests.support.api import running_api


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/user/password/reset/token", {"formFields": []}),
        ("/user/password/reset", {"token": "x", "formFields": []}),
    ],
)
async def test_an_invalid_tenant_is_refused_before_the_form_is_judged(
    database_url: str, path: str, body: dict[str, object]
) -> None:
    """An invalid tenant id answered FIELD_ERROR when the form was incomplete too."""
    async with running_api(database_url) as api:
        refused = await api.client.post(f"/auth/Not_A_Tenant{path}", json=body)
        assert (refused.status_code, refused.json()) == (400, {"message": "Invalid tenant id"})
        judged = await api.client.post(f"/auth/public{path}", json=body)
        assert judged.json()["status"] == "FIELD_ERROR"
