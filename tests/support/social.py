"""The frontend's side of a third-party sign-in, as supertokens-web-js makes it: ask for the
authorisation URL, then post the provider's redirect (or a native app's tokens) to signinup."""

from __future__ import annotations

from typing import Any

import httpx

from tests.support.api import Api

TP = {"rid": "thirdparty", "fdi-version": "4.2"}
CALLBACK = "http://localhost:3567/auth/callback/provider"


async def authorisation(api: Api, third_party_id: str) -> dict[str, Any]:
    params = {"thirdPartyId": third_party_id, "redirectURIOnProviderDashboard": CALLBACK}
    answer = await api.client.get("/auth/authorisationurl", params=params, headers=TP)
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    assert body["status"] == "OK", body
    return body


async def sign_in_up(api: Api, third_party_id: str, **body: Any) -> httpx.Response:
    answer = await api.client.post(
        "/auth/signinup", json={"thirdPartyId": third_party_id, **body}, headers=TP
    )
    assert answer.status_code == 200, answer.text  # never a 500, whatever the provider did
    return answer


async def redirected(
    api: Api, third_party_id: str, code: str, verifier: str | None = None
) -> httpx.Response:
    """signinup with the provider's redirect to ``CALLBACK`` carrying ``code``."""
    info: dict[str, Any] = {
        "redirectURIOnProviderDashboard": CALLBACK,
        "redirectURIQueryParams": {"code": code, "state": "checked-by-the-frontend"},
    }
    if verifier is not None:
        info["pkceCodeVerifier"] = verifier
    return await sign_in_up(api, third_party_id, redirectURIInfo=info)
