"""The storage contract: every test runs on SQLite and on PostgreSQL (see conftest.database_url)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable

import pytest

from tokenward.app.stores import Stores
from tokenward.recipes.jwt.port import SigningKeyRecord
from tokenward.recipes.session.port import Rotate, SessionRecord, SessionWrite
from tokenward.recipes.users.port import EmailAlreadyExists, UnknownTenant
from tokenward.shared.email_links.port import OneTimeTokenRecord

NOW = 1_700_000_000_000
H1, H2, H3 = "a" * 64, "b" * 64, "c" * 64


def session(
    handle: str = "",
    user: str = "user-1",
    *,
    expires_at: int = NOW + 60_000,
    tenant: str = "public",
) -> SessionRecord:
    return SessionRecord(
        session_handle=handle or str(uuid.uuid4()),
        tenant_id=tenant,
        user_id=user,
        recipe_user_id=user,
        refresh_token_hash2=H1,
        session_data={"cart": [1, 2], "name": "Zoë"},
        jwt_payload={"role": "admin"},
        created_at=NOW,
        expires_at=expires_at,
    )


# --- sessions ---------------------------------------------------------------------------------


async def test_session_round_trip(stores: Stores) -> None:
    record = session()
    await stores.sessions.create(record)
    assert await stores.sessions.get(record.session_handle) == record
    assert await stores.sessions.get("missing") is None


async def test_parallel_rotations_with_one_expected_hash_succeed_once(stores: Stores) -> None:
    """20 parallel promotions of the same parent: each decision is made on the row it reads, so
    exactly one promotes and the others, deciding again on the promoted row, write nothing."""
    record = session()
    await stores.sessions.create(record)

    def promote_from_h1(i: int) -> Callable[[SessionRecord | None], tuple[int, SessionWrite]]:
        def decision(stored: SessionRecord | None) -> tuple[int, SessionWrite]:
            if stored is None or stored.refresh_token_hash2 != H1:
                return i, None
            return i, Rotate(H1, f"{i:064x}", NOW + i)

        return decision

    results = await asyncio.gather(
        *(
            stores.sessions.decide_and_write(record.session_handle, promote_from_h1(i))
            for i in range(20)
        )
    )
    winners = [i for i, written in results if written]
    assert len(winners) == 1
    got = await stores.sessions.get(record.session_handle)
    assert got is not None and got.refresh_token_hash2 == f"{winners[0]:064x}"
    assert got.expires_at == NOW + winners[0]


async def test_decide_and_write_applies_the_decision_made_on_the_row(stores: Stores) -> None:
    record = session()
    await stores.sessions.create(record)
    handle = record.session_handle
    seen: list[SessionRecord | None] = []

    def decide(write: SessionWrite) -> Callable[[SessionRecord | None], tuple[str, SessionWrite]]:
        def decision(stored: SessionRecord | None) -> tuple[str, SessionWrite]:
            seen.append(stored)
            return "result", write

        return decision

    assert await stores.sessions.decide_and_write(handle, decide(None)) == ("result", False)
    stale = Rotate(expected_hash2=H2, new_hash2=H3, expires_at=1)
    assert await stores.sessions.decide_and_write(handle, decide(stale)) == ("result", False)
    promote = Rotate(expected_hash2=H1, new_hash2=H2, expires_at=NOW + 5)
    assert await stores.sessions.decide_and_write(handle, decide(promote)) == ("result", True)
    assert seen == [record, record, record]
    got = await stores.sessions.get(handle)
    assert got is not None and (got.refresh_token_hash2, got.expires_at) == (H2, NOW + 5)
    assert await stores.sessions.decide_and_write(handle, decide("revoke")) == ("result", True)
    assert await stores.sessions.get(handle) is None
    assert await stores.sessions.decide_and_write(handle, decide("revoke")) == ("result", False)
    assert seen[-1] is None


async def test_parallel_decide_and_write_each_see_the_write_before(stores: Stores) -> None:
    """A write applies only to the row its decision saw, and a decision that lost the race is
    made again on the row as the winner left it: every one of 20 parallel writes succeeds."""
    record = session()
    await stores.sessions.create(record)

    def next_hash(stored: SessionRecord | None) -> tuple[None, SessionWrite]:
        assert stored is not None
        new_hash2 = f"{int(stored.refresh_token_hash2, 16) + 1:064x}"
        return None, Rotate(stored.refresh_token_hash2, new_hash2, NOW + 5)

    results = await asyncio.gather(
        *(stores.sessions.decide_and_write(record.session_handle, next_hash) for _ in range(20))
    )
    assert [written for _, written in results] == [True] * 20
    got = await stores.sessions.get(record.session_handle)
    assert got is not None and got.refresh_token_hash2 == f"{int(H1, 16) + 20:064x}"


async def test_update_session_data_and_payload(stores: Stores) -> None:
    record = session()
    await stores.sessions.create(record)
    assert await stores.sessions.update_data(record.session_handle, {"x": {"y": None}})
    assert await stores.sessions.update_jwt_payload(record.session_handle, {"st-ev": {"v": True}})
    got = await stores.sessions.get(record.session_handle)
    assert got is not None
    assert got.session_data == {"x": {"y": None}}
    assert got.jwt_payload == {"st-ev": {"v": True}}
    assert not await stores.sessions.update_data("missing", {})


async def test_delete_sessions(stores: Stores) -> None:
    a, b = session(), session()
    await stores.sessions.create(a)
    await stores.sessions.create(b)
    deleted = await stores.sessions.delete([a.session_handle, "missing"])
    assert deleted == [a.session_handle]
    assert await stores.sessions.get(a.session_handle) is None
    assert await stores.sessions.get(b.session_handle) == b
    assert await stores.sessions.delete([]) == []


async def test_sessions_of_a_user(stores: Stores) -> None:
    live = session(user="u")
    expired = session(user="u", expires_at=NOW - 1)
    other = session(user="v")
    for record in (live, expired, other):
        await stores.sessions.create(record)
    assert await stores.sessions.handles_for_user("u", now=NOW) == [live.session_handle]
    assert await stores.sessions.handles_for_user("u", now=NOW, tenant_id="t2") == []
    removed = await stores.sessions.delete_for_user("u")
    assert sorted(removed) == sorted([live.session_handle, expired.session_handle])
    assert await stores.sessions.get(other.session_handle) == other


async def test_delete_expired_sessions(stores: Stores) -> None:
    live, expired = session(), session(expires_at=NOW)
    await stores.sessions.create(live)
    await stores.sessions.create(expired)
    assert await stores.sessions.delete_expired(NOW) == 1
    assert await stores.sessions.get(expired.session_handle) is None
    assert await stores.sessions.get(live.session_handle) == live


# --- signing keys and secrets ------------------------------------------------------------------


async def test_signing_keys(stores: Stores) -> None:
    old = SigningKeyRecord(kid="d-1", algorithm="RS256", private_key="pem-1", created_at=1)
    new = SigningKeyRecord(kid="d-2", algorithm="RS256", private_key="pem-2", created_at=2)
    assert await stores.signing_keys.add(old)
    assert await stores.signing_keys.add(new)
    assert not await stores.signing_keys.add(new), "a second instance adding the same kid"
    assert await stores.signing_keys.all() == [new, old]
    assert await stores.signing_keys.delete_created_before(2) == 1
    assert await stores.signing_keys.all() == [new]


async def test_secret_is_created_once_under_a_race(stores: Stores) -> None:
    values = await asyncio.gather(
        *(stores.secrets.get_or_create("refresh-key", f"v{i}", now=NOW) for i in range(10))
    )
    assert len(set(values)) == 1
    assert await stores.secrets.get_or_create("refresh-key", "other", now=NOW) == values[0]


# --- single-use tokens -------------------------------------------------------------------------


def one_time(token_hash: str = H1, *, expires_at: int = NOW + 1000) -> OneTimeTokenRecord:
    return OneTimeTokenRecord(
        token_hash=token_hash,
        purpose="password_reset",
        tenant_id="public",
        user_id="u",
        email="a@example.com",
        created_at=NOW,
        expires_at=expires_at,
    )


async def test_one_time_token_is_consumed_once(stores: Stores) -> None:
    token = one_time()
    await stores.one_time_tokens.add(token)
    assert await stores.one_time_tokens.consume(H1, purpose="email_verification", now=NOW) is None
    assert await stores.one_time_tokens.consume(H1, purpose="password_reset", now=NOW) == token
    assert await stores.one_time_tokens.consume(H1, purpose="password_reset", now=NOW) is None


async def test_expired_one_time_token_is_refused(stores: Stores) -> None:
    await stores.one_time_tokens.add(one_time(expires_at=NOW))
    assert await stores.one_time_tokens.consume(H1, purpose="password_reset", now=NOW) is None
    assert await stores.one_time_tokens.delete_expired(NOW) == 1


async def test_concurrent_consumption_has_one_winner(stores: Stores) -> None:
    await stores.one_time_tokens.add(one_time())
    results = await asyncio.gather(
        *(stores.one_time_tokens.consume(H1, purpose="password_reset", now=NOW) for _ in range(10))
    )
    assert sum(r is not None for r in results) == 1


async def test_delete_one_time_tokens_of_a_user(stores: Stores) -> None:
    await stores.one_time_tokens.add(one_time(H1))
    await stores.one_time_tokens.add(one_time(H2))
    assert await stores.one_time_tokens.delete_for_user("password_reset", "u") == 2
    assert await stores.one_time_tokens.consume(H1, purpose="password_reset", now=NOW) is None


# --- users -------------------------------------------------------------------------------------


async def test_create_and_read_an_email_password_user(stores: Stores) -> None:
    created = await stores.users.create_email_password_user(
        user_id="u1",
        tenant_id="public",
        email="a@example.com",
        password_hash="$argon2id$x",
        now=NOW,
    )
    assert await stores.users.get("u1") == created
    assert created.tenant_ids == ("public",)
    method = await stores.users.find_email_password("public", "a@example.com")
    assert method == created.login_methods[0]
    assert method is not None and method.password_hash == "$argon2id$x"
    assert await stores.users.find_email_password("public", "b@example.com") is None
    assert await stores.users.get("missing") is None
    # What a sign-in reads: the account and its user, in one go.
    assert await stores.users.find_email_password_user("public", "a@example.com") == (
        created,
        created.login_methods[0],
    )
    assert await stores.users.find_email_password_user("public", "b@example.com") is None
    assert await stores.users.find_email_password_user("other", "a@example.com") is None


async def test_email_is_unique_per_tenant(stores: Stores) -> None:
    await stores.users.create_email_password_user(
        user_id="u1", tenant_id="public", email="a@example.com", password_hash="h", now=NOW
    )
    with pytest.raises(EmailAlreadyExists):
        await stores.users.create_email_password_user(
            user_id="u2", tenant_id="public", email="a@example.com", password_hash="h", now=NOW
        )
    assert await stores.users.get("u2") is None, "nothing of the failed sign-up remains"


async def test_concurrent_sign_ups_with_one_email_create_one_user(stores: Stores) -> None:
    async def attempt(i: int) -> str:
        try:
            await stores.users.create_email_password_user(
                user_id=f"u{i}",
                tenant_id="public",
                email="race@example.com",
                password_hash="h",
                now=NOW,
            )
        except EmailAlreadyExists:
            return "exists"
        return "created"

    results = await asyncio.gather(*(attempt(i) for i in range(8)))
    assert sorted(results) == ["created"] + ["exists"] * 7


async def test_unknown_tenant(stores: Stores) -> None:
    with pytest.raises(UnknownTenant):
        await stores.users.create_email_password_user(
            user_id="u1", tenant_id="nope", email="a@example.com", password_hash="h", now=NOW
        )


async def test_password_change_and_user_deletion(stores: Stores) -> None:
    await stores.users.create_email_password_user(
        user_id="u1", tenant_id="public", email="a@example.com", password_hash="old", now=NOW
    )
    assert await stores.users.set_password_hash("u1", "new")
    method = await stores.users.find_email_password("public", "a@example.com")
    assert method is not None and method.password_hash == "new"
    assert await stores.users.delete("u1")
    assert not await stores.users.delete("u1")
    assert await stores.users.find_email_password("public", "a@example.com") is None


async def test_email_verification(stores: Stores) -> None:
    verification = stores.email_verification
    assert not await verification.is_verified("u1", "a@example.com")
    await verification.mark_verified("u1", "a@example.com", now=NOW)
    await verification.mark_verified("u1", "a@example.com", now=NOW)
    assert await verification.is_verified("u1", "a@example.com")
    assert not await verification.is_verified("u1", "b@example.com")
    await verification.unmark_verified("u1", "a@example.com")
    assert not await verification.is_verified("u1", "a@example.com")


# --- atomic use of single-use tokens -----------------------------------------------------------


def purpose_token(
    token_hash: str, purpose: str, *, user: str = "u1", email: str = "a@example.com"
) -> OneTimeTokenRecord:
    return OneTimeTokenRecord(
        token_hash=token_hash,
        purpose=purpose,
        tenant_id="public",
        user_id=user,
        email=email,
        created_at=NOW,
        expires_at=NOW + 1000,
    )


async def test_peek_does_not_consume(stores: Stores) -> None:
    await stores.one_time_tokens.add(one_time())
    assert await stores.one_time_tokens.peek(H1, purpose="password_reset", now=NOW) is not None
    assert await stores.one_time_tokens.peek(H1, purpose="password_reset", now=NOW + 1000) is None
    assert await stores.one_time_tokens.consume(H1, purpose="password_reset", now=NOW) is not None


async def test_reset_password_consumes_the_token_and_sets_the_hash(stores: Stores) -> None:
    await stores.users.create_email_password_user(
        user_id="u1", tenant_id="public", email="a@example.com", password_hash="old", now=NOW
    )
    await stores.one_time_tokens.add(purpose_token(H1, "password_reset"))
    await stores.one_time_tokens.add(purpose_token(H2, "password_reset"))
    used = await stores.password_reset.reset_password(H1, now=NOW, password_hash="new")
    assert used is not None and used.user_id == "u1"
    method = await stores.users.find_email_password("public", "a@example.com")
    assert method is not None and method.password_hash == "new"
    assert await stores.one_time_tokens.peek(H2, purpose="password_reset", now=NOW) is None
    assert await stores.password_reset.reset_password(H1, now=NOW, password_hash="x") is None


async def test_reset_token_for_a_changed_email_changes_nothing(stores: Stores) -> None:
    await stores.users.create_email_password_user(
        user_id="u1", tenant_id="public", email="a@example.com", password_hash="old", now=NOW
    )
    await stores.one_time_tokens.add(purpose_token(H1, "password_reset", email="old@example.com"))
    assert await stores.password_reset.reset_password(H1, now=NOW, password_hash="new") is None
    method = await stores.users.find_email_password("public", "a@example.com")
    assert method is not None and method.password_hash == "old"


async def test_parallel_resets_with_one_token_succeed_once(stores: Stores) -> None:
    await stores.users.create_email_password_user(
        user_id="u1", tenant_id="public", email="a@example.com", password_hash="old", now=NOW
    )
    await stores.one_time_tokens.add(purpose_token(H1, "password_reset"))
    results = await asyncio.gather(
        *(
            stores.password_reset.reset_password(H1, now=NOW, password_hash=f"h{i}")
            for i in range(20)
        )
    )
    winners = [i for i, r in enumerate(results) if r is not None]
    assert len(winners) == 1
    method = await stores.users.find_email_password("public", "a@example.com")
    assert method is not None and method.password_hash == f"h{winners[0]}"


async def test_verify_email_with_a_token(stores: Stores) -> None:
    await stores.one_time_tokens.add(purpose_token(H1, "email_verification"))
    await stores.one_time_tokens.add(purpose_token(H2, "email_verification"))
    results = await asyncio.gather(
        *(stores.email_verification.verify_with_token(H1, now=NOW) for _ in range(10))
    )
    assert sum(r is not None for r in results) == 1
    assert await stores.email_verification.is_verified("u1", "a@example.com")
    assert await stores.one_time_tokens.peek(H2, purpose="email_verification", now=NOW) is None
    assert await stores.email_verification.verify_with_token(H3, now=NOW) is None


async def test_user_pages_and_counts(stores: Stores) -> None:
    for i in range(5):
        await stores.users.create_email_password_user(
            user_id=f"u{i}",
            tenant_id="public",
            email=f"p{i}@example.com",
            password_hash="h",
            now=NOW + i,
        )
    assert await stores.users.count("public") == 5
    assert await stores.users.count(None) == 5
    assert await stores.users.count("other") == 0
    first = await stores.users.page("public", limit=2, after=None, newest_first=False)
    assert [u.user_id for u in first] == ["u0", "u1"]
    last = first[-1]
    rest = await stores.users.page(
        "public", limit=10, after=(last.time_joined, last.user_id), newest_first=False
    )
    assert [u.user_id for u in rest] == ["u2", "u3", "u4"]
    newest = await stores.users.page(None, limit=2, after=None, newest_first=True)
    assert [u.user_id for u in newest] == ["u4", "u3"]
    assert newest[0].login_methods[0].email == "p4@example.com"


async def test_concurrent_payload_merges_keep_every_key(stores: Stores) -> None:
    record = session()
    await stores.sessions.create(record)
    handle = record.session_handle
    results = await asyncio.gather(
        *(stores.sessions.merge_jwt_payload(handle, {f"k{i}": i}, now=NOW) for i in range(10))
    )
    assert all(r is not None for r in results)
    merged = await stores.sessions.merge_jwt_payload(handle, {"role": None}, now=NOW)
    assert merged == {f"k{i}": i for i in range(10)}
    got = await stores.sessions.get(handle)
    assert got is not None and got.jwt_payload == merged
    assert await stores.sessions.merge_jwt_payload("missing", {"a": 1}, now=NOW) is None
    assert await stores.sessions.merge_jwt_payload(handle, {"a": 1}, now=record.expires_at) is None
