"""Third-party login methods in SQL: find the provider account's user, or create it; and the
providers configured per tenant."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import and_, bindparam, delete, literal_column, select, update
from sqlalchemy.exc import IntegrityError

from tokenward.recipes.thirdparty.port import ProviderAccount, SignedInUp
from tokenward.recipes.users.port import LoginMethodRecord, UnknownTenant, UserRecord
from tokenward.recipes.users.sql import (
    NewLoginMethod,
    insert_user,
    user_from_rows,
    users_with_methods,
)
from tokenward.shared.database.direct_statements import DriverStatement
from tokenward.shared.database.engine import Database
from tokenward.shared.database.schema import (
    login_method_tenants,
    login_methods,
    thirdparty_providers,
    users,
    verified_emails,
)
from tokenward.shared.database.sql import dump_json, insert_ignoring_conflicts, load_json

RECIPE_ID = "thirdparty"

_ACCOUNT = and_(
    login_method_tenants.c.tenant_id == bindparam("tenant"),
    # In the SQL, not bound: the partial unique index applies to this recipe only.
    login_method_tenants.c.recipe_id == literal_column(f"'{RECIPE_ID}'"),
    login_method_tenants.c.third_party_id == bindparam("provider"),
    login_method_tenants.c.third_party_user_id == bindparam("account"),
)
_USER = users_with_methods(
    users.c.user_id.in_(
        select(login_methods.c.user_id).where(
            login_methods.c.recipe_user_id.in_(
                select(login_method_tenants.c.recipe_user_id).where(_ACCOUNT)
            )
        )
    )
)


class SqlThirdPartyStore:
    def __init__(self, db: Database) -> None:
        self._db = db
        self._mark_verified = insert_ignoring_conflicts(db.dialect, verified_emails)
        # A returning user's sign-in (half of all in steady state) reads and writes no more
        # than this: the user, then the provider's verified email marked, each one statement.
        self._find = DriverStatement(db, _USER)
        self._mark_verified_now = DriverStatement(db, self._mark_verified)

    async def sign_in_up(
        self, tenant_id: str, account: ProviderAccount, *, new_user_id: str, now: int
    ) -> SignedInUp:
        done = await self._sign_in(tenant_id, account, new_user_id, now)
        if done is None:
            raise AssertionError("a sign-up always gives a user")
        return done

    async def sign_in(
        self, tenant_id: str, account: ProviderAccount, *, now: int
    ) -> SignedInUp | None:
        return await self._sign_in(tenant_id, account, None, now)

    async def _sign_in(
        self, tenant_id: str, account: ProviderAccount, new_user_id: str | None, now: int
    ) -> SignedInUp | None:
        """Signs the account's user in; creates it under ``new_user_id``, if given."""
        key = {
            "tenant": tenant_id,
            "provider": account.third_party_id,
            "account": account.third_party_user_id,
        }
        returning = await self._returning_user(tenant_id, account, key, now)
        if returning is not None:
            return returning
        for attempt in range(2):
            try:
                async with self._db.write() as conn:
                    user = user_from_rows(list(await conn.execute(_USER, key)))
                    method = _method_of(user, tenant_id, account)
                    created = user is None or method is None
                    if user is None or method is None:
                        if new_user_id is None:
                            return None
                        new = NewLoginMethod(
                            RECIPE_ID,
                            email=account.email,
                            third_party_id=account.third_party_id,
                            third_party_user_id=account.third_party_user_id,
                        )
                        user = await insert_user(conn, new_user_id, tenant_id, new, now=now)
                        method = user.login_methods[0]
                    elif method.email != account.email:
                        # The provider's email changed: the login method follows it.
                        changed = {"email": account.email}
                        for table in (login_methods, login_method_tenants):
                            await conn.execute(
                                update(table)
                                .where(table.c.recipe_user_id == method.recipe_user_id)
                                .values(**changed)
                            )
                        user = user_from_rows(list(await conn.execute(_USER, key))) or user
                        method = next(
                            m
                            for m in user.login_methods
                            if m.recipe_user_id == method.recipe_user_id
                        )
                    if account.email_verified:
                        await conn.execute(
                            self._mark_verified,
                            {
                                "user_id": method.recipe_user_id,
                                "email": account.email,
                                "verified_at": now,
                            },
                        )
                return SignedInUp(user, method, created, account.email_verified)
            except IntegrityError:
                if attempt:
                    raise
        raise AssertionError("unreachable")

    async def _returning_user(
        self, tenant_id: str, account: ProviderAccount, key: dict[str, str], now: int
    ) -> SignedInUp | None:
        """The sign-in of an account whose user exists with the provider's email: one read,
        and (for a verified email) one write that changes nothing when the email is already
        marked. None, with nothing written, for any other account: the transaction of
        ``_sign_in`` decides then. The two statements are each their own transaction; what
        another request changes between them (the user deleted, or its email updated) gives
        the same state as that change made just after this sign-in."""
        async with self._db.held_connection() as held:
            user = user_from_rows(await self._find.fetch_all(held, **key))
            method = _method_of(user, tenant_id, account)
            if user is None or method is None or method.email != account.email:
                return None
            if account.email_verified:
                await self._mark_verified_now.write(
                    held, user_id=method.recipe_user_id, email=account.email, verified_at=now
                )
        return SignedInUp(user, method, False, account.email_verified)


def _method_of(
    user: UserRecord | None, tenant_id: str, account: ProviderAccount
) -> LoginMethodRecord | None:
    """The user's login method of the provider account in the tenant, if it has one."""
    return next(
        (
            m
            for m in (user.login_methods if user else ())
            if m.recipe_id == RECIPE_ID
            and m.third_party_id == account.third_party_id
            and m.third_party_user_id == account.third_party_user_id
            and tenant_id in m.tenant_ids
        ),
        None,
    )


class SqlProviderConfigs:
    def __init__(self, db: Database) -> None:
        self._db = db
        self._insert = insert_ignoring_conflicts(db.dialect, thirdparty_providers)

    async def put_provider(
        self, tenant_id: str, third_party_id: str, config: Mapping[str, Any], *, now: int
    ) -> bool:
        row = {"tenant_id": tenant_id, "third_party_id": third_party_id}
        text = dump_json(dict(config))
        try:
            async with self._db.write() as conn:
                inserted = await conn.execute(
                    self._insert, {**row, "config": text, "created_at": now, "updated_at": now}
                )
                if inserted.rowcount == 1:
                    return True
                await conn.execute(
                    update(thirdparty_providers)
                    .where(
                        thirdparty_providers.c.tenant_id == tenant_id,
                        thirdparty_providers.c.third_party_id == third_party_id,
                    )
                    .values(config=text, updated_at=now)
                )
                return False
        except IntegrityError:
            raise UnknownTenant(f"tenant {tenant_id!r} does not exist") from None

    async def remove_provider(self, tenant_id: str, third_party_id: str) -> bool:
        async with self._db.write() as conn:
            removed = await conn.execute(
                delete(thirdparty_providers).where(
                    thirdparty_providers.c.tenant_id == tenant_id,
                    thirdparty_providers.c.third_party_id == third_party_id,
                )
            )
        return bool(removed.rowcount)

    async def tenant_providers(self, tenant_id: str) -> list[dict[str, Any]]:
        async with self._db.read() as conn:
            rows = await conn.execute(
                select(thirdparty_providers.c.config)
                .where(thirdparty_providers.c.tenant_id == tenant_id)
                .order_by(thirdparty_providers.c.created_at, thirdparty_providers.c.third_party_id)
            )
            return [load_json(row.config) for row in rows]
