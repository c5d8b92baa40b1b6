"""Users, their login methods and verified emails in SQL."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import (
    and_,
    bindparam,
    delete,
    exists,
    func,
    insert,
    literal_column,
    select,
    true,
    tuple_,
    update,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from tokenward.recipes.users.port import (
    EmailAlreadyExists,
    LoginMethodRecord,
    PhoneNumberAlreadyExists,
    UnknownTenant,
    UserRecord,
)
from tokenward.shared.database.direct_statements import DriverStatement
from tokenward.shared.database.engine import Database
from tokenward.shared.database.schema import (
    login_method_tenants,
    login_methods,
    tenants,
    users,
)

EP_RECIPE_ID = "emailpassword"
PASSWORDLESS_RECIPE_ID = "passwordless"

_METHOD_COLUMNS = (*login_methods.c, login_method_tenants.c.tenant_id)


def _methods(rows: Iterable[Any]) -> list[LoginMethodRecord]:
    """Fold (login method × tenant) rows into one record per login method, in row order."""
    grouped: dict[str, tuple[Any, list[str]]] = {}
    for row in rows:
        entry = grouped.setdefault(row.recipe_user_id, (row, []))
        if row.tenant_id is not None:
            entry[1].append(row.tenant_id)
    return [
        LoginMethodRecord(
            recipe_user_id=row.recipe_user_id,
            user_id=row.user_id,
            recipe_id=row.recipe_id,
            tenant_ids=tuple(sorted(tenant_ids)),
            time_joined=row.time_joined,
            email=row.email,
            phone_number=row.phone_number,
            third_party_id=row.third_party_id,
            third_party_user_id=row.third_party_user_id,
            password_hash=row.password_hash,
        )
        for row, tenant_ids in grouped.values()
    ]


def _methods_query() -> Any:
    return select(*_METHOD_COLUMNS).select_from(
        login_methods.outerjoin(
            login_method_tenants,
            login_method_tenants.c.recipe_user_id == login_methods.c.recipe_user_id,
        )
    )


_EMAIL_PASSWORD_RECIPE_USERS = select(login_method_tenants.c.recipe_user_id).where(
    and_(
        login_method_tenants.c.tenant_id == bindparam("tenant_id"),
        # Written into the SQL, not bound: SQLite prepares a statement again on every run when
        # a bound value decides whether a partial index (here the unique email one) applies.
        login_method_tenants.c.recipe_id == literal_column(f"'{EP_RECIPE_ID}'"),
        login_method_tenants.c.email == bindparam("email"),
    )
)
"""The email/password account with ``email`` in ``tenant_id`` (one at most: a unique index)."""


def users_with_methods(which: Any) -> Any:
    """Users matching ``which`` with all their login methods, one row per method and tenant."""
    return (
        select(
            users.c.user_id.label("user_user_id"),
            users.c.time_joined.label("user_time_joined"),
            *_METHOD_COLUMNS,
        )
        # Joined one after the other: SQLite materialises a parenthesised join (users LEFT
        # JOIN (login_methods LEFT JOIN login_method_tenants)) whole, every login method of
        # every user, on each call.
        .select_from(
            users.outerjoin(login_methods, login_methods.c.user_id == users.c.user_id).outerjoin(
                login_method_tenants,
                login_method_tenants.c.recipe_user_id == login_methods.c.recipe_user_id,
            )
        )
        .where(which)
        .order_by(login_methods.c.time_joined, login_methods.c.recipe_user_id)
    )


# The reads of every sign-in and every session's claims, each one direct statement.
_USER_WITH_METHODS = users_with_methods(users.c.user_id == bindparam("user_id"))
_EMAIL_PASSWORD_USER = users_with_methods(
    users.c.user_id.in_(
        select(login_methods.c.user_id).where(
            login_methods.c.recipe_user_id.in_(_EMAIL_PASSWORD_RECIPE_USERS)
        )
    )
)
_EMAIL_PASSWORD_METHOD = _methods_query().where(
    login_methods.c.recipe_user_id.in_(_EMAIL_PASSWORD_RECIPE_USERS)
)


def user_from_rows(rows: list[Any]) -> UserRecord | None:
    if not rows:
        return None
    methods = _methods(row for row in rows if row.recipe_user_id is not None)
    return UserRecord(
        user_id=rows[0].user_user_id,
        time_joined=rows[0].user_time_joined,
        login_methods=tuple(methods),
    )


# Built once (every sign-up runs them): building ``insert(...).values(...)`` per call cost more
# CPU than running the statement from SQLAlchemy's compiled cache.
_TENANT = select(tenants.c.tenant_id).where(tenants.c.tenant_id == bindparam("tenant_id"))
_INSERT_USER = insert(users)
_INSERT_LOGIN_METHOD = insert(login_methods)
_INSERT_LOGIN_METHOD_TENANT = insert(login_method_tenants)


@dataclass(frozen=True, slots=True)
class NewLoginMethod:
    recipe_id: str
    email: str | None = None
    phone_number: str | None = None
    third_party_id: str | None = None
    third_party_user_id: str | None = None
    password_hash: str | None = field(default=None, repr=False)


async def insert_user(
    conn: AsyncConnection, user_id: str, tenant_id: str, method: NewLoginMethod, *, now: int
) -> UserRecord:
    """Create a user whose one login method is ``method`` (its recipe user id is the user id),
    inside the caller's transaction. Raises UnknownTenant; a taken email or phone number in
    the tenant raises the unique index's IntegrityError."""
    found = await conn.execute(_TENANT, {"tenant_id": tenant_id})
    if found.first() is None:
        raise UnknownTenant(f"tenant {tenant_id!r} does not exist")
    identity = {
        "email": method.email,
        "phone_number": method.phone_number,
        "third_party_id": method.third_party_id,
        "third_party_user_id": method.third_party_user_id,
    }
    await conn.execute(_INSERT_USER, {"user_id": user_id, "time_joined": now})
    await conn.execute(
        _INSERT_LOGIN_METHOD,
        {
            "recipe_user_id": user_id,
            "user_id": user_id,
            "recipe_id": method.recipe_id,
            "password_hash": method.password_hash,
            "time_joined": now,
            **identity,
        },
    )
    await conn.execute(
        _INSERT_LOGIN_METHOD_TENANT,
        {"tenant_id": tenant_id, "recipe_user_id": user_id, "recipe_id": method.recipe_id}
        | identity,
    )
    created = LoginMethodRecord(
        recipe_user_id=user_id,
        user_id=user_id,
        recipe_id=method.recipe_id,
        tenant_ids=(tenant_id,),
        time_joined=now,
        password_hash=method.password_hash,
        **identity,
    )
    return UserRecord(user_id=user_id, time_joined=now, login_methods=(created,))


def _users_with_a_method(*where: Any) -> Any:
    """Users (with all their login methods) that have a login method matching ``where`` in the
    login methods' tenant table."""
    recipe_users = select(login_method_tenants.c.recipe_user_id).where(and_(*where))
    return users_with_methods(
        users.c.user_id.in_(
            select(login_methods.c.user_id).where(login_methods.c.recipe_user_id.in_(recipe_users))
        )
    )


def _passwordless_user(contact_column: str) -> Any:
    return _users_with_a_method(
        login_method_tenants.c.tenant_id == bindparam("tenant_id"),
        login_method_tenants.c.recipe_id == literal_column(f"'{PASSWORDLESS_RECIPE_ID}'"),
        login_method_tenants.c[contact_column] == bindparam("contact"),
    )


# Built once: the consume transaction runs one of them on every passwordless sign-in.
_PASSWORDLESS_USER = {
    "email": _passwordless_user("email"),
    "phone": _passwordless_user("phone_number"),
}
_THIRD_PARTY_USER = _users_with_a_method(
    login_method_tenants.c.tenant_id == bindparam("tenant"),
    login_method_tenants.c.recipe_id == literal_column("'thirdparty'"),
    login_method_tenants.c.third_party_id == bindparam("provider"),
    login_method_tenants.c.third_party_user_id == bindparam("account"),
)
_USERS_WITH_EMAIL = _users_with_a_method(
    login_method_tenants.c.tenant_id == bindparam("tenant"),
    login_method_tenants.c.email == bindparam("email"),
)


async def find_passwordless_user(
    conn: AsyncConnection, tenant_id: str, email: str | None, phone_number: str | None
) -> UserRecord | None:
    """The user with the passwordless login method of this email or phone in the tenant."""
    query = _PASSWORDLESS_USER["email" if email is not None else "phone"]
    contact = email if email is not None else phone_number
    rows = list(await conn.execute(query, {"tenant_id": tenant_id, "contact": contact}))
    return user_from_rows(rows)


def passwordless_method(
    user: UserRecord | None, tenant_id: str, email: str | None, phone_number: str | None
) -> LoginMethodRecord | None:
    """The user's passwordless login method of this email or phone in the tenant."""
    if user is None:
        return None
    found = (
        m
        for m in user.login_methods
        if m.recipe_id == PASSWORDLESS_RECIPE_ID
        and tenant_id in m.tenant_ids
        and (m.email == email if email is not None else m.phone_number == phone_number)
    )
    return next(found, None)


class SqlUserStore:
    def __init__(self, db: Database) -> None:
        self._db = db
        self._user_with_methods = DriverStatement(db, _USER_WITH_METHODS)
        self._email_password_method = DriverStatement(db, _EMAIL_PASSWORD_METHOD)
        self._email_password_user = DriverStatement(db, _EMAIL_PASSWORD_USER)

    async def create_email_password_user(
        self, *, user_id: str, tenant_id: str, email: str, password_hash: str, now: int
    ) -> UserRecord:
        method = NewLoginMethod(EP_RECIPE_ID, email=email, password_hash=password_hash)
        try:
            async with self._db.write() as conn:
                return await insert_user(conn, user_id, tenant_id, method, now=now)
        except IntegrityError:
            raise EmailAlreadyExists(email) from None

    async def get(self, user_id: str) -> UserRecord | None:
        return user_from_rows(await self._user_with_methods.fetch_all(user_id=user_id))

    async def find_email_password_user(
        self, tenant_id: str, email: str
    ) -> tuple[UserRecord, LoginMethodRecord] | None:
        rows = await self._email_password_user.fetch_all(tenant_id=tenant_id, email=email)
        user = user_from_rows(rows)
        if user is None:
            return None
        # The method the query found (both tables store an account's email alike).
        found = (
            method
            for method in user.login_methods
            if method.recipe_id == EP_RECIPE_ID
            and method.email == email
            and tenant_id in method.tenant_ids
        )
        method = next(found, None)
        return None if method is None else (user, method)

    async def find_email_password(self, tenant_id: str, email: str) -> LoginMethodRecord | None:
        rows = await self._email_password_method.fetch_all(tenant_id=tenant_id, email=email)
        methods = _methods(rows)
        return methods[0] if methods else None

    async def find_passwordless(
        self, tenant_id: str, *, email: str | None = None, phone_number: str | None = None
    ) -> tuple[UserRecord, LoginMethodRecord] | None:
        async with self._db.read() as conn:
            user = await find_passwordless_user(conn, tenant_id, email, phone_number)
        method = passwordless_method(user, tenant_id, email, phone_number)
        return None if user is None or method is None else (user, method)

    async def with_email(self, tenant_id: str, email: str) -> list[UserRecord]:
        async with self._db.read() as conn:
            rows = list(
                await conn.execute(_USERS_WITH_EMAIL, {"tenant": tenant_id, "email": email})
            )
        by_user: dict[str, list[Any]] = {}
        for row in rows:
            by_user.setdefault(row.user_user_id, []).append(row)
        return [u for u in (user_from_rows(r) for r in by_user.values()) if u is not None]

    async def find_third_party(
        self, tenant_id: str, third_party_id: str, third_party_user_id: str
    ) -> UserRecord | None:
        key = {"tenant": tenant_id, "provider": third_party_id, "account": third_party_user_id}
        async with self._db.read() as conn:
            return user_from_rows(list(await conn.execute(_THIRD_PARTY_USER, key)))

    async def set_password_hash(self, recipe_user_id: str, password_hash: str) -> bool:
        async with self._db.write() as conn:
            result = await conn.execute(
                update(login_methods)
                .where(
                    and_(
                        login_methods.c.recipe_user_id == recipe_user_id,
                        login_methods.c.recipe_id == EP_RECIPE_ID,
                    )
                )
                .values(password_hash=password_hash)
            )
        return result.rowcount == 1

    async def set_contact(
        self, recipe_user_id: str, *, email: str | None, phone_number: str | None
    ) -> bool:
        contact = {"email": email, "phone_number": phone_number}
        try:
            async with self._db.write() as conn:
                result = await conn.execute(
                    update(login_methods)
                    .where(
                        and_(
                            login_methods.c.recipe_user_id == recipe_user_id,
                            login_methods.c.recipe_id == PASSWORDLESS_RECIPE_ID,
                        )
                    )
                    .values(**contact)
                )
                if result.rowcount != 1:
                    return False
                await conn.execute(
                    update(login_method_tenants)
                    .where(login_method_tenants.c.recipe_user_id == recipe_user_id)
                    .values(**contact)
                )
        except IntegrityError:
            if email is not None and await self._contact_taken(recipe_user_id, email=email):
                raise EmailAlreadyExists(email) from None
            raise PhoneNumberAlreadyExists(phone_number or "") from None
        return True

    async def _contact_taken(self, recipe_user_id: str, *, email: str) -> bool:
        """Whether another passwordless login method shares a tenant and ``email`` with it."""
        mine = select(login_method_tenants.c.tenant_id).where(
            login_method_tenants.c.recipe_user_id == recipe_user_id
        )
        query = select(login_method_tenants.c.recipe_user_id).where(
            and_(
                login_method_tenants.c.recipe_id == PASSWORDLESS_RECIPE_ID,
                login_method_tenants.c.email == email,
                login_method_tenants.c.recipe_user_id != recipe_user_id,
                login_method_tenants.c.tenant_id.in_(mine),
            )
        )
        async with self._db.read() as conn:
            return (await conn.execute(query)).first() is not None

    async def delete(self, user_id: str) -> bool:
        async with self._db.write() as conn:
            result = await conn.execute(delete(users).where(users.c.user_id == user_id))
        return result.rowcount == 1

    async def page(
        self,
        tenant_id: str | None,
        *,
        limit: int,
        after: tuple[int, str] | None,
        newest_first: bool,
    ) -> list[UserRecord]:
        key = tuple_(users.c.time_joined, users.c.user_id)
        query = select(users).where(_in_tenant(tenant_id))
        if after is not None:
            query = query.where(key < tuple_(*after) if newest_first else key > tuple_(*after))
        order = (
            (users.c.time_joined.desc(), users.c.user_id.desc())
            if newest_first
            else (users.c.time_joined, users.c.user_id)
        )
        async with self._db.read() as conn:
            rows = list(await conn.execute(query.order_by(*order).limit(limit)))
            return await _users_in(conn, rows)

    async def count(self, tenant_id: str | None) -> int:
        async with self._db.read() as conn:
            result = await conn.execute(
                select(func.count()).select_from(users).where(_in_tenant(tenant_id))
            )
            return int(result.scalar_one())


async def _users_in(conn: AsyncConnection, rows: list[Any]) -> list[UserRecord]:
    if not rows:
        return []
    ids = [row.user_id for row in rows]
    method_rows = await conn.execute(
        _methods_query()
        .where(login_methods.c.user_id.in_(ids))
        .order_by(login_methods.c.time_joined, login_methods.c.recipe_user_id)
    )
    by_user: dict[str, list[LoginMethodRecord]] = {}
    for method in _methods(method_rows):
        by_user.setdefault(method.user_id, []).append(method)
    return [
        UserRecord(row.user_id, row.time_joined, tuple(by_user.get(row.user_id, ())))
        for row in rows
    ]


def _in_tenant(tenant_id: str | None) -> Any:
    if tenant_id is None:
        return true()
    return exists(
        select(login_method_tenants.c.recipe_user_id)
        .select_from(
            login_method_tenants.join(
                login_methods,
                login_methods.c.recipe_user_id == login_method_tenants.c.recipe_user_id,
            )
        )
        .where(
            and_(
                login_methods.c.user_id == users.c.user_id,
                login_method_tenants.c.tenant_id == tenant_id,
            )
        )
    )
