"""The passwordless store's contract, on SQLite and PostgreSQL: devices, codes, and the consume
transaction (one code signs in once, even from parallel requests)."""

from __future__ import annotations

import asyncio
import uuid

import pytest

from tokenward.app.stores import Stores
from tokenward.recipes.passwordless import rules
from tokenward.recipes.passwordless.port import (
    Accepted,
    CodeCollision,
    Contact,
    LinkCode,
    NewCode,
    Refused,
    TypedCode,
)
from tokenward.recipes.users.port import UnknownTenant

NOW = 1_700_000_000_000
LIFETIME = 900_000
ALICE = Contact(email="alice@example.com")


async def new_device(
    stores: Stores, contact: Contact = ALICE, typed: str = "123456", *, tenant: str = "public"
) -> tuple[rules.DeviceSecret, rules.Code]:
    device = rules.new_device()
    code = rules.code_for(device.device_id, device.link_code_salt, typed)
    await stores.passwordless.create_device(
        tenant,
        device.pre_auth_session_id,
        contact,
        link_code_salt=device.link_code_salt,
        code=NewCode(str(uuid.uuid4()), code.link_code_hash, NOW, NOW + LIFETIME),
    )
    return device, code


async def consume(
    stores: Stores,
    device: rules.DeviceSecret,
    proof: LinkCode | TypedCode,
    *,
    now: int = NOW + 1,
    sign_in: bool = True,
) -> Accepted | Refused:
    return await stores.passwordless.consume(
        "public",
        device.pre_auth_session_id,
        proof,
        now=now,
        max_attempts=5,
        new_user_id=str(uuid.uuid4()) if sign_in else None,
        use_up=sign_in,
    )


async def test_a_link_code_signs_up_then_a_typed_code_signs_in_the_same_user(
    stores: Stores,
) -> None:
    device, code = await new_device(stores)
    first = await consume(stores, device, LinkCode(code.link_code_hash))
    assert isinstance(first, Accepted) and first.created_user and first.user is not None
    [method] = first.user.login_methods
    assert (method.recipe_id, method.email, method.tenant_ids) == (
        "passwordless",
        "alice@example.com",
        ("public",),
    )
    assert first.recipe_user_id == method.recipe_user_id
    assert await stores.email_verification.is_verified(method.recipe_user_id, "alice@example.com")
    assert await stores.passwordless.device("public", device.pre_auth_session_id) is None
    again = await consume(stores, device, LinkCode(code.link_code_hash))
    assert again == Refused("restart"), "a code works once"

    device2, _ = await new_device(stores, typed="654321")
    second = await consume(stores, device2, TypedCode(device2.device_id, "654321"))
    assert isinstance(second, Accepted) and not second.created_user
    assert second.user is not None and second.user.user_id == first.user.user_id
    found = await stores.users.find_passwordless("public", email="alice@example.com")
    assert found is not None and found[0].user_id == first.user.user_id


async def test_phone_users_are_found_by_their_number(stores: Stores) -> None:
    phone = Contact(phone_number="+14155550100")
    device, code = await new_device(stores, phone)
    done = await consume(stores, device, LinkCode(code.link_code_hash))
    assert isinstance(done, Accepted) and done.user is not None
    assert done.user.login_methods[0].phone_number == "+14155550100"
    assert await stores.users.find_passwordless("public", phone_number="+14155550100")
    assert await stores.users.find_passwordless("public", email="+14155550100") is None


async def test_wrong_typed_codes_count_and_the_limit_deletes_the_device(stores: Stores) -> None:
    device, _ = await new_device(stores)
    wrong = TypedCode(device.device_id, "000000")
    outcomes = [await consume(stores, device, wrong) for _ in range(5)]
    assert outcomes == [
        Refused("incorrect", 1),
        Refused("incorrect", 2),
        Refused("incorrect", 3),
        Refused("incorrect", 4),
        Refused("restart"),
    ]
    assert await stores.passwordless.device("public", device.pre_auth_session_id) is None
    right = await consume(stores, device, TypedCode(device.device_id, "123456"))
    assert right == Refused("restart"), "the right code no longer helps"


async def test_an_expired_code_typed_counts_and_by_link_restarts(stores: Stores) -> None:
    device, code = await new_device(stores)
    late = NOW + LIFETIME
    typed = await consume(stores, device, TypedCode(device.device_id, "123456"), now=late)
    assert typed == Refused("expired", 1)
    assert await consume(stores, device, LinkCode(code.link_code_hash), now=late) == Refused(
        "restart"
    )
    stored = await stores.passwordless.device("public", device.pre_auth_session_id)
    assert stored is not None and stored.failed_attempts == 1
    assert isinstance(await consume(stores, device, LinkCode(code.link_code_hash)), Accepted)


async def test_a_link_code_of_another_device_is_refused(stores: Stores) -> None:
    device, _ = await new_device(stores)
    other, other_code = await new_device(stores, Contact(email="bob@example.com"))
    refused = await consume(stores, device, LinkCode(other_code.link_code_hash))
    assert refused == Refused("restart")
    assert await stores.passwordless.device("public", other.pre_auth_session_id) is not None


async def test_a_success_removes_every_device_of_the_contact_only(stores: Stores) -> None:
    first, code = await new_device(stores)
    second, _ = await new_device(stores, typed="222222")
    bob, _ = await new_device(stores, Contact(email="bob@example.com"))
    assert isinstance(await consume(stores, first, LinkCode(code.link_code_hash)), Accepted)
    assert await stores.passwordless.device("public", second.pre_auth_session_id) is None
    assert await stores.passwordless.device("public", bob.pre_auth_session_id) is not None


async def test_a_check_accepts_without_consuming_or_signing_in(stores: Stores) -> None:
    device, code = await new_device(stores)
    checked = await consume(stores, device, LinkCode(code.link_code_hash), sign_in=False)
    assert isinstance(checked, Accepted) and checked.user is None
    assert await stores.users.find_passwordless("public", email="alice@example.com") is None
    assert isinstance(await consume(stores, device, LinkCode(code.link_code_hash)), Accepted)


async def test_parallel_consumes_of_one_code_accept_exactly_one(stores: Stores) -> None:
    device, code = await new_device(stores)
    results = await asyncio.gather(
        *(
            consume(
                stores,
                device,
                LinkCode(code.link_code_hash) if i % 2 else TypedCode(device.device_id, "123456"),
            )
            for i in range(12)
        )
    )
    accepted = [r for r in results if isinstance(r, Accepted)]
    assert len(accepted) == 1
    assert all(r == Refused("restart") for r in results if not isinstance(r, Accepted))
    users = await stores.users.page("public", limit=10, after=None, newest_first=False)
    assert len(users) == 1


async def test_parallel_consumes_of_several_devices_of_one_new_email_make_one_user(
    stores: Stores,
) -> None:
    """Each right code signs in at most once; however many win the race, the unique index
    leaves one user, whom all of them sign in, and no device of the email is left."""
    pairs = [await new_device(stores, typed=f"{i:06d}") for i in range(6)]
    results = await asyncio.gather(
        *(consume(stores, device, LinkCode(code.link_code_hash)) for device, code in pairs)
    )
    accepted = [r for r in results if isinstance(r, Accepted)]
    assert accepted and all(r == Refused("restart") for r in results if r not in accepted)
    assert len({r.user.user_id for r in accepted if r.user is not None}) == 1
    assert sum(r.created_user for r in accepted) == 1
    assert len(await stores.users.page("public", limit=10, after=None, newest_first=False)) == 1
    assert await stores.passwordless.devices_of("public", ALICE) == []


async def test_parallel_wrong_codes_each_count(stores: Stores) -> None:
    device, _ = await new_device(stores)
    wrong = TypedCode(device.device_id, "000000")
    results = await asyncio.gather(*(consume(stores, device, wrong) for _ in range(4)))
    assert sorted(r.failed_attempts for r in results if isinstance(r, Refused)) == [1, 2, 3, 4]


async def test_codes_list_add_remove_and_expire(stores: Stores) -> None:
    device, _ = await new_device(stores)
    extra = rules.code_for(device.device_id, device.link_code_salt, "999999")
    late = NewCode("late-code", extra.link_code_hash, NOW + 10, NOW + 10 + LIFETIME)
    assert await stores.passwordless.add_code("public", device.pre_auth_session_id, late)
    stored = await stores.passwordless.device("public", device.pre_auth_session_id)
    assert stored is not None and [c.code_id for c in stored.codes][1] == "late-code"
    assert stored.email == "alice@example.com" and stored.link_code_salt == device.link_code_salt
    [listed] = await stores.passwordless.devices_of("public", ALICE)
    assert listed == stored
    assert await stores.passwordless.devices_of("other", ALICE) == []

    assert await stores.passwordless.remove_expired(NOW + LIFETIME) == 1, "the first code"
    assert await stores.passwordless.device("public", device.pre_auth_session_id) is not None
    assert await stores.passwordless.remove_code("public", "late-code")
    assert await stores.passwordless.device("public", device.pre_auth_session_id) is None, (
        "a device without codes is removed with its last code"
    )
    assert not await stores.passwordless.add_code("public", device.pre_auth_session_id, late)


async def test_remove_devices_of_a_contact_and_expired_devices(stores: Stores) -> None:
    device, _ = await new_device(stores)
    bob, _ = await new_device(stores, Contact(email="bob@example.com"))
    await stores.passwordless.remove_devices_of("public", ALICE)
    assert await stores.passwordless.device("public", device.pre_auth_session_id) is None
    assert await stores.passwordless.remove_expired(NOW + LIFETIME) == 1
    assert await stores.passwordless.device("public", bob.pre_auth_session_id) is None


async def test_a_colliding_code_or_unknown_tenant_writes_nothing(stores: Stores) -> None:
    device, code = await new_device(stores)
    again = NewCode("dup", code.link_code_hash, NOW, NOW + LIFETIME)
    with pytest.raises(CodeCollision):
        await stores.passwordless.add_code("public", device.pre_auth_session_id, again)
    other = rules.new_device()
    with pytest.raises(CodeCollision):
        await stores.passwordless.create_device(
            "public", other.pre_auth_session_id, ALICE, link_code_salt=b"s" * 32, code=again
        )
    assert await stores.passwordless.device("public", other.pre_auth_session_id) is None
    fresh = NewCode("fresh", "h" * 43, NOW, NOW + LIFETIME)
    with pytest.raises(UnknownTenant):
        await stores.passwordless.create_device(
            "nope", other.pre_auth_session_id, ALICE, link_code_salt=b"s" * 32, code=fresh
        )


async def test_parallel_consumes_from_two_instances_accept_exactly_one(
    stores: Stores, database_url: str
) -> None:
    """Two processes' worth of stores (their own engines and pools) on one database."""
    other = Stores.open(database_url)
    try:
        device, code = await new_device(stores)
        proof = LinkCode(code.link_code_hash)
        results = await asyncio.gather(
            *(
                (stores if i % 2 else other).passwordless.consume(
                    "public",
                    device.pre_auth_session_id,
                    proof,
                    now=NOW + 1,
                    max_attempts=5,
                    new_user_id=str(uuid.uuid4()),
                )
                for i in range(10)
            )
        )
    finally:
        await other.close()
    assert sum(isinstance(r, Accepted) for r in results) == 1
    assert len(await stores.users.page("public", limit=10, after=None, newest_first=False)) == 1
