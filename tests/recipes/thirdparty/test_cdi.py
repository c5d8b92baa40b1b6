"""The third-party core API (CDI) as supertokens-python 0.31 calls it, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from tests.support.api import Api, running_api

KEY = "thirdparty-cdi-test-key-0123456789"
CORE = {"api-key": KEY, "cdi-version": "5.4"}


@pytest.fixture
async def api(database_url: str) -> AsyncIterator[Api]:
    async with running_api(database_url, api_keys=KEY) as running:
        yield running


async def sign_in_up(api: Api, **email: Any) -> Any:
    body = {"thirdPartyId": "google", "thirdPartyUserId": "g-1", "email": email}
    answer = await api.client.post("/public/recipe/signinup", json=body, headers=CORE)
    assert answer.status_code == 200, answer.text
    return answer.json()


async def test_sign_in_up_creates_then_finds_and_follows_the_email(api: Api) -> None:
    first = await sign_in_up(api, id="Ann@Example.com", isVerified=True)
    assert first["status"] == "OK" and first["createdNewUser"] is True
    user = first["user"]
    assert user["thirdParty"] == [{"id": "google", "userId": "g-1"}]
    [method] = user["loginMethods"]
    assert method["recipeId"] == "thirdparty" and method["verified"] is True
    assert method["email"] == "ann@example.com" and first["recipeUserId"] == user["id"]
    again = await sign_in_up(api, id="ann@new.example", isVerified=False)
    assert again["createdNewUser"] is False and again["user"]["id"] == user["id"]
    assert again["user"]["emails"] == ["ann@new.example"]
    assert again["user"]["loginMethods"][0]["verified"] is False


@pytest.mark.parametrize(
    "body",
    [
        {"thirdPartyId": "google", "thirdPartyUserId": "g-1"},
        {"thirdPartyId": "google", "thirdPartyUserId": "g-1", "email": {"id": "nope"}},
        {"thirdPartyId": "google", "email": {"id": "a@example.com"}},
        {"thirdPartyId": "google", "thirdPartyUserId": "g",
         "email": {"id": "a@x.io", "isVerified": "y"}},
    ],
)  # fmt: skip
async def test_malformed_bodies_are_400(api: Api, body: dict[str, Any]) -> None:
    answer = await api.client.post("/public/recipe/signinup", json=body, headers=CORE)
    assert answer.status_code == 400


async def test_users_by_account_info_finds_a_provider_account(api: Api) -> None:
    created = await sign_in_up(api, id="bea@example.com", isVerified=True)
    found = await api.client.get(
        "/public/users/by-accountinfo",
        params={"thirdPartyId": "google", "thirdPartyUserId": "g-1"},
        headers=CORE,
    )
    assert [u["id"] for u in found.json()["users"]] == [created["user"]["id"]]
    by_email = await api.client.get(
        "/public/users/by-accountinfo", params={"email": "bea@example.com"}, headers=CORE
    )
    assert [u["id"] for u in by_email.json()["users"]] == [created["user"]["id"]]
    other = await api.client.get(
        "/public/users/by-accountinfo",
        params={"thirdPartyId": "github", "thirdPartyUserId": "g-1"},
        headers=CORE,
    )
    assert other.json()["users"] == []


async def test_users_by_account_info_match_all_unless_union(api: Api) -> None:
    google = (await sign_in_up(api, id="cy@example.com", isVerified=True))["user"]["id"]
    body = {"thirdPartyId": "github", "thirdPartyUserId": "gh-1", "email": {"id": "cy@example.com"}}
    github = (await api.client.post("/public/recipe/signinup", json=body, headers=CORE)).json()

    async def ids(**params: str) -> list[str]:
        found = await api.client.get("/public/users/by-accountinfo", params=params, headers=CORE)
        assert found.status_code == 200, found.text
        return sorted(u["id"] for u in found.json()["users"])  # a tie of time joined: any order

    account = {"thirdPartyId": "github", "thirdPartyUserId": "gh-1"}
    both = sorted([google, github["user"]["id"]])
    github_only = [github["user"]["id"]]
    assert await ids(email="cy@example.com") == both
    for union in ({}, {"doUnionOfAccountInfo": "false"}):
        assert await ids(email="cy@example.com", **account, **union) == github_only
        assert await ids(email="zed@example.com", **account, **union) == []
    assert await ids(email="cy@example.com", **account, doUnionOfAccountInfo="true") == both
    assert await ids(email="zed@example.com", **account, doUnionOfAccountInfo="true") == github_only
