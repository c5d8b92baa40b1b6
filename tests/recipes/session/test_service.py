"""The session API over real stores (SQLite and PostgreSQL), with an injected clock."""

from __future__ import annotations

import asyncio
import json

import pytest

from tests.support.clock import FakeClock
from tests.support.sessions import ACCESS_MS, ISSUER, REFRESH_MS, ROTATION_MS, session_service
from tokenward.app.maintenance import cleanup
from tokenward.app.stores import Stores
from tokenward.recipes.jwt.service import KeyRing
from tokenward.recipes.session.errors import TokenTheftDetected, TryRefreshToken, Unauthorised
from tokenward.recipes.session.rules import front_token
from tokenward.recipes.session.rules import refresh_token as rt
from tokenward.recipes.session.service.sessions import SessionService
from tokenward.shared.encoding import b64url_decode
from tokenward.shared.token_errors import ProtectedClaimError


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def sessions(stores: Stores, clock: FakeClock) -> SessionService:
    return session_service(stores, clock)


async def test_created_session_verifies_locally(
    sessions: SessionService, stores: Stores, clock: FakeClock
) -> None:
    issued = await sessions.create("user-1", access_token_payload={"role": "admin"})
    claims = issued.access.claims
    assert (claims.user_id, claims.recipe_user_id, claims.tenant_id) == (
        "user-1",
        "user-1",
        "public",
    )
    assert claims.parent_refresh_token_hash1 is None
    assert claims.refresh_token_hash1 == rt.hash1(issued.refresh_token)
    assert claims.expires_at_s * 1000 == clock.now + ACCESS_MS
    assert issued.refresh_expires_at_ms == clock.now + REFRESH_MS
    decoded = front_token.decode(issued.access.front_token)
    assert decoded.user_id == "user-1" and decoded.access_token_expiry_ms == claims.expires_at_ms
    assert decoded.payload["role"] == "admin" and decoded.payload["iss"] == ISSUER

    record = await stores.sessions.get(claims.session_handle)
    assert record is not None and record.refresh_token_hash2 == rt.hash2(issued.refresh_token)

    # A current token verifies without the database: even a revoked session passes locally...
    await stores.sessions.delete([claims.session_handle])
    verified = await sessions.verify(issued.access.token)
    assert verified.user_id == "user-1" and verified.new_access_token is None
    # ...and check_database makes the revocation visible at once.
    with pytest.raises(Unauthorised):
        await sessions.verify(issued.access.token, check_database=True)


async def test_access_token_expires_into_try_refresh(
    sessions: SessionService, clock: FakeClock
) -> None:
    issued = await sessions.create("u")
    clock.advance(ms=ACCESS_MS - 1000)
    await sessions.verify(issued.access.token)
    clock.advance(ms=1000)
    with pytest.raises(TryRefreshToken):
        await sessions.verify(issued.access.token)


async def test_garbage_and_forged_access_tokens(sessions: SessionService) -> None:
    issued = await sessions.create("u")
    with pytest.raises(Unauthorised) as caught:
        await sessions.verify("not-a-jwt")
    assert not caught.value.clear_tokens
    head, body, sig = issued.access.token.split(".")
    with pytest.raises(TryRefreshToken):
        await sessions.verify(f"{head}.{body}.{sig[:-4]}AAAA")


async def test_rotation_lineage_and_theft(
    sessions: SessionService, stores: Stores, clock: FakeClock
) -> None:
    first = await sessions.create("u")
    handle = first.access.claims.session_handle

    # Refreshing with the current parent mints a child and changes nothing in the database,
    # so a second tab refreshing with the same token is fine.
    child = await sessions.refresh(first.refresh_token)
    sibling = await sessions.refresh(first.refresh_token)
    assert child.access.claims.parent_refresh_token_hash1 == rt.hash1(first.refresh_token)
    record = await stores.sessions.get(handle)
    assert record is not None and record.refresh_token_hash2 == rt.hash2(first.refresh_token)

    # The first use of the child's access token promotes it and slides the expiry.
    clock.advance(seconds=1800)
    verified = await sessions.verify(child.access.token)
    replacement = verified.new_access_token
    assert replacement is not None
    assert replacement.claims.parent_refresh_token_hash1 is None
    assert replacement.claims.refresh_token_hash1 == rt.hash1(child.refresh_token)
    record = await stores.sessions.get(handle)
    assert record is not None
    assert record.refresh_token_hash2 == rt.hash2(child.refresh_token)
    assert record.expires_at == clock.now + REFRESH_MS
    # The replacement needs no database visit any more.
    assert (await sessions.verify(replacement.token)).new_access_token is None

    # The lineage goes on from the child.
    grandchild = await sessions.refresh(child.refresh_token)
    assert grandchild.access.claims.parent_refresh_token_hash1 == rt.hash1(child.refresh_token)

    # The old parent (now an ancestor) is theft, and so is the unused sibling; theft revokes.
    with pytest.raises(TokenTheftDetected) as caught:
        await sessions.refresh(first.refresh_token)
    assert (caught.value.session_handle, caught.value.user_id) == (handle, "u")
    assert await stores.sessions.get(handle) is None
    with pytest.raises(Unauthorised) as ended:
        await sessions.refresh(grandchild.refresh_token)
    assert ended.value.clear_tokens
    del sibling


async def test_sibling_of_a_promoted_child_is_theft(sessions: SessionService) -> None:
    first = await sessions.create("u")
    a = await sessions.refresh(first.refresh_token)
    b = await sessions.refresh(first.refresh_token)
    await sessions.refresh(a.refresh_token)  # promotes a
    with pytest.raises(TokenTheftDetected):
        await sessions.refresh(b.refresh_token)


async def test_refresh_with_a_child_promotes_and_slides_expiry(
    sessions: SessionService, stores: Stores, clock: FakeClock
) -> None:
    first = await sessions.create("u")
    child = await sessions.refresh(first.refresh_token)
    clock.advance(hours=30)
    grandchild = await sessions.refresh(child.refresh_token)
    assert grandchild.refresh_expires_at_ms == clock.now + REFRESH_MS
    record = await stores.sessions.get(first.access.claims.session_handle)
    assert record is not None and record.refresh_token_hash2 == rt.hash2(child.refresh_token)


async def test_session_expiry_and_tampered_refresh_tokens(
    sessions: SessionService, stores: Stores, clock: FakeClock
) -> None:
    issued = await sessions.create("u")
    tampered = (
        issued.refresh_token[:-2]
        + ("A" if issued.refresh_token[-2] != "A" else "B")
        + issued.refresh_token[-1]
    )
    with pytest.raises(Unauthorised) as caught:
        await sessions.refresh(tampered)
    assert caught.value.clear_tokens
    with pytest.raises(Unauthorised):
        await session_service(stores, clock).refresh(issued.refresh_token)  # another sealing key
    clock.advance(ms=REFRESH_MS)
    with pytest.raises(Unauthorised):
        await sessions.refresh(issued.refresh_token)


async def test_parallel_refreshes_with_the_current_parent(
    sessions: SessionService, stores: Stores
) -> None:
    first = await sessions.create("u")
    results = await asyncio.gather(
        *(sessions.refresh(first.refresh_token) for _ in range(20)), return_exceptions=True
    )
    assert all(not isinstance(r, BaseException) for r in results), results
    children = [r for r in results if not isinstance(r, BaseException)]
    assert len({c.refresh_token for c in children}) == 20
    # Whichever child is used first becomes the lineage; its siblings are then theft.
    winner, loser = children[7], children[3]
    await sessions.refresh(winner.refresh_token)
    with pytest.raises(TokenTheftDetected):
        await sessions.refresh(loser.refresh_token)


async def test_parallel_refreshes_with_an_unpromoted_child_promote_once(
    sessions: SessionService, stores: Stores
) -> None:
    first = await sessions.create("u")
    child = await sessions.refresh(first.refresh_token)
    results = await asyncio.gather(
        *(sessions.refresh(child.refresh_token) for _ in range(20)), return_exceptions=True
    )
    assert all(not isinstance(r, BaseException) for r in results), results
    record = await stores.sessions.get(first.access.claims.session_handle)
    assert record is not None and record.refresh_token_hash2 == rt.hash2(child.refresh_token)
    # Every grandchild is a child of the promoted token, so any of them carries on.
    grandchildren = [r for r in results if not isinstance(r, BaseException)]
    await sessions.refresh(grandchildren[-1].refresh_token)


async def test_parallel_first_use_of_a_refreshed_access_token(sessions: SessionService) -> None:
    first = await sessions.create("u")
    child = await sessions.refresh(first.refresh_token)
    results = await asyncio.gather(*(sessions.verify(child.access.token) for _ in range(10)))
    assert all(r.new_access_token is not None for r in results)
    assert all(
        r.new_access_token and r.new_access_token.claims.parent_refresh_token_hash1 is None
        for r in results
    )


async def test_payload_merge_and_database_check(sessions: SessionService, stores: Stores) -> None:
    issued = await sessions.create("u", access_token_payload={"a": 1, "b": 2})
    handle = issued.access.claims.session_handle
    with pytest.raises(ProtectedClaimError):
        await sessions.merge_into_payload(handle, {"sub": "someone-else"})
    with pytest.raises(ProtectedClaimError):
        await sessions.create("u", access_token_payload={"sessionHandle": "x"})
    new = await sessions.merge_into_payload(
        handle, {"b": None, "c": 3}, access_token_str=issued.access.token
    )
    assert new is not None
    assert dict(new.claims.user_claims) == {"a": 1, "c": 3}
    assert new.claims.expires_at_s == issued.access.claims.expires_at_s
    info = await sessions.info(handle)
    assert info is not None and info.access_token_payload == {"a": 1, "c": 3}
    # The old token still carries the old payload; a database check replaces it.
    checked = await sessions.verify(issued.access.token, check_database=True)
    assert checked.new_access_token is not None
    assert checked.payload["c"] == 3 and "b" not in checked.payload


async def test_session_data_listing_and_revocation(
    sessions: SessionService, stores: Stores, clock: FakeClock
) -> None:
    one = await sessions.create("u", session_data={"cart": [1]})
    two = await sessions.create("u")
    other = await sessions.create("v")
    h1, h2 = one.access.claims.session_handle, two.access.claims.session_handle
    assert sorted(await sessions.handles_for_user("u")) == sorted([h1, h2])
    assert await sessions.update_data(h1, {"cart": [1, 2]})
    info = await sessions.info(h1)
    assert info is not None and info.session_data == {"cart": [1, 2]}
    assert await sessions.revoke([h1]) == [h1]
    assert await sessions.info(h1) is None
    assert await sessions.revoke_all_for_user("u") == [h2]
    assert await sessions.handles_for_user("u") == []
    clock.advance(ms=REFRESH_MS)
    report = await cleanup(stores, sessions.keys, clock)
    assert report.sessions == 1
    assert await stores.sessions.get(other.access.claims.session_handle) is None


async def test_tenant_sessions_carry_the_tenant_in_the_handle(sessions: SessionService) -> None:
    issued = await sessions.create("u", tenant_id="acme")
    assert issued.access.claims.session_handle.endswith("_acme")
    assert issued.access.claims.tenant_id == "acme"
    child = await sessions.refresh(issued.refresh_token)
    assert child.access.claims.tenant_id == "acme"


async def test_anti_csrf_tokens(stores: Stores, clock: FakeClock) -> None:
    sessions = session_service(stores, clock, anti_csrf_tokens=True)
    issued = await sessions.create("u")
    assert issued.anti_csrf_token is not None
    assert issued.access.claims.anti_csrf_token == issued.anti_csrf_token
    await sessions.verify(
        issued.access.token, anti_csrf_token=issued.anti_csrf_token, check_anti_csrf_token=True
    )
    with pytest.raises(TryRefreshToken):
        await sessions.verify(issued.access.token, anti_csrf_token="x", check_anti_csrf_token=True)
    with pytest.raises(Unauthorised):
        await sessions.refresh(
            issued.refresh_token, anti_csrf_token="x", check_anti_csrf_token=True
        )
    renewed = await sessions.refresh(
        issued.refresh_token, anti_csrf_token=issued.anti_csrf_token, check_anti_csrf_token=True
    )
    assert renewed.anti_csrf_token not in (None, issued.anti_csrf_token)


def kid_of(token: str) -> str:
    header = json.loads(b64url_decode(token.split(".")[0]))
    return str(header["kid"])


async def test_keys_rotate_and_old_tokens_still_verify(stores: Stores, clock: FakeClock) -> None:
    sessions = session_service(stores, clock)
    start = clock.now
    first = await sessions.create("u")
    first_kid = kid_of(first.access.token)
    assert first_kid == f"d-{start}"

    # Shortly before the interval ends the next key is made, but the old one keeps signing
    # until every instance could have seen the new one (60 s).
    clock.now = start + ROTATION_MS - 30_000
    before = await sessions.create("u")
    assert kid_of(before.access.token) == first_kid
    assert len(await stores.signing_keys.all()) == 2
    clock.advance(seconds=60)
    after = await sessions.create("u")
    assert kid_of(after.access.token) != first_kid

    # Tokens signed by the old key stay valid until they expire.
    assert (await sessions.verify(before.access.token)).user_id == "u"
    jwks, max_age = await sessions_keys(sessions).jwks()
    assert {k["kid"] for k in jwks["keys"]} == {first_kid, kid_of(after.access.token)}
    assert 0 < max_age <= ROTATION_MS // 1000

    # Once nothing it signed can be live, the old key leaves the JWKS.
    clock.advance(ms=3 * ACCESS_MS)
    jwks, _ = await sessions_keys(sessions).jwks()
    assert first_kid not in {k["kid"] for k in jwks["keys"]}


def sessions_keys(sessions: SessionService) -> KeyRing:
    return sessions.keys


async def test_cleanup_retires_keys_nothing_live_was_signed_with(
    sessions: SessionService, stores: Stores, clock: FakeClock
) -> None:
    await sessions.create("u")
    clock.advance(ms=ROTATION_MS)
    await sessions.create("u")
    assert len(await stores.signing_keys.all()) == 2
    assert (await cleanup(stores, sessions.keys, clock)).signing_keys == 0
    clock.advance(ms=3 * ACCESS_MS)
    await sessions.create("u")
    report = await cleanup(stores, sessions.keys, clock)
    assert report.signing_keys == 1
    assert len(await stores.signing_keys.all()) == 1


async def test_a_key_made_by_another_instance_is_picked_up(
    stores: Stores, clock: FakeClock
) -> None:
    key = rt.new_key()
    a = session_service(stores, clock, key=key)
    b = session_service(stores, clock, key=key)
    issued = await a.create("u")
    verified = await b.verify(issued.access.token)
    assert verified.user_id == "u"
