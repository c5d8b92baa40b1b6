"""The third-party store's contract, on SQLite and PostgreSQL: a provider account signs in to
one user, whose email follows the provider's; first sign-ins racing make one user."""

from __future__ import annotations

import asyncio

import pytest

from tokenward.app.stores import Stores
from tokenward.recipes.thirdparty.port import ProviderAccount
from tokenward.recipes.users.port import UnknownTenant

NOW = 1_700_000_000_000


def account(
    user: str = "g-123", email: str = "ann@example.com", verified: bool = True
) -> ProviderAccount:
    return ProviderAccount("google", user, email, verified)


async def test_one_provider_account_is_one_user(stores: Stores) -> None:
    first = await stores.thirdparty.sign_in_up("public", account(), new_user_id="u1", now=NOW)
    assert first.created and first.user.user_id == "u1"
    method = first.method
    assert (method.recipe_id, method.third_party_id, method.third_party_user_id) == (
        "thirdparty",
        "google",
        "g-123",
    )
    assert await stores.email_verification.is_verified("u1", "ann@example.com")
    again = await stores.thirdparty.sign_in_up("public", account(), new_user_id="u2", now=NOW)
    assert not again.created and again.user.user_id == "u1"
    other = await stores.thirdparty.sign_in_up(
        "public", account(user="g-456"), new_user_id="u3", now=NOW
    )
    assert other.created and other.user.user_id == "u3", "another account, even with one email"
    github = await stores.thirdparty.sign_in_up(
        "public",
        ProviderAccount("github", "g-123", "ann@example.com", False),
        new_user_id="u4",
        now=NOW,
    )
    assert github.created, "ids are per provider"


async def test_the_email_follows_the_provider_and_verification_is_per_email(stores: Stores) -> None:
    await stores.thirdparty.sign_in_up("public", account(), new_user_id="u1", now=NOW)
    moved = await stores.thirdparty.sign_in_up(
        "public", account(email="ann@new.example", verified=False), new_user_id="x", now=NOW
    )
    assert moved.method.email == "ann@new.example" and moved.user.login_methods[0].email == (
        "ann@new.example"
    )
    assert not await stores.email_verification.is_verified("u1", "ann@new.example")
    reread = await stores.users.get("u1")
    assert reread is not None and reread.login_methods[0].email == "ann@new.example"


async def test_racing_first_sign_ins_make_one_user(stores: Stores) -> None:
    results = await asyncio.gather(
        *(
            stores.thirdparty.sign_in_up("public", account(), new_user_id=f"u{i}", now=NOW)
            for i in range(8)
        )
    )
    assert len({r.user.user_id for r in results}) == 1
    assert sum(r.created for r in results) == 1


async def test_an_unknown_tenant_is_refused(stores: Stores) -> None:
    with pytest.raises(UnknownTenant):
        await stores.thirdparty.sign_in_up("nope", account(), new_user_id="u1", now=NOW)


async def test_sign_in_finds_an_existing_account_and_never_creates_one(stores: Stores) -> None:
    """What an app's sign-up check needs: nothing is written for an account without a user."""
    assert await stores.thirdparty.sign_in("public", account(), now=1) is None
    assert await stores.users.count(None) == 0
    made = await stores.thirdparty.sign_in_up("public", account(), new_user_id="u-1", now=1)
    found = await stores.thirdparty.sign_in("public", account(email="new@example.com"), now=2)
    assert found is not None and found.user.user_id == made.user.user_id and not found.created
    assert found.method.email == "new@example.com"
