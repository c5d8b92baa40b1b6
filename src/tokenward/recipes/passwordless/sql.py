"""Passwordless devices and codes in SQL, and the consume transaction."""

from __future__ import annotations

from typing import Any

from sqlalchemy import and_, bindparam, delete, exists, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from tokenward.recipes.passwordless.port import (
    Accepted,
    CodeCollision,
    CodeRecord,
    Contact,
    DeviceRecord,
    LinkCode,
    NewCode,
    Proof,
    Refused,
    TypedCode,
)
from tokenward.recipes.passwordless.rules import RECIPE_ID, code_for, wrong_code
from tokenward.recipes.users.port import LoginMethodRecord, UnknownTenant, UserRecord
from tokenward.recipes.users.sql import (
    NewLoginMethod,
    find_passwordless_user,
    insert_user,
    passwordless_method,
)
from tokenward.shared.database.engine import Database
from tokenward.shared.database.schema import (
    passwordless_codes as codes,
)
from tokenward.shared.database.schema import (
    passwordless_devices as devices,
)
from tokenward.shared.database.schema import (
    tenants,
    verified_emails,
)
from tokenward.shared.database.sql import insert_ignoring_conflicts
from tokenward.shared.encoding import b64url_decode, b64url_encode


def _of_contact(tenant_id: str, email: str | None, phone_number: str | None) -> Any:
    if email is not None:
        which = devices.c.email == email
    else:
        which = devices.c.phone_number == phone_number
    return and_(devices.c.tenant_id == tenant_id, which)


def _device_key(tenant_id: str, pre_auth_session_id: str) -> Any:
    return and_(
        devices.c.tenant_id == tenant_id, devices.c.pre_auth_session_id == pre_auth_session_id
    )


def _device(row: Any, code_rows: list[Any]) -> DeviceRecord:
    return DeviceRecord(
        pre_auth_session_id=row.pre_auth_session_id,
        tenant_id=row.tenant_id,
        email=row.email,
        phone_number=row.phone_number,
        link_code_salt=b64url_decode(row.link_code_salt),
        failed_attempts=row.failed_attempts,
        codes=tuple(CodeRecord(c.code_id, c.created_at, c.expires_at) for c in code_rows),
        second_factor=bool(row.second_factor),
    )


# The consume path's statements, built once (each runs with bound parameters).
_KEY = and_(
    devices.c.tenant_id == bindparam("tenant"),
    devices.c.pre_auth_session_id == bindparam("device"),
)
_LIVE_CODE = exists(
    select(codes.c.code_id).where(
        and_(
            codes.c.pre_auth_session_id == devices.c.pre_auth_session_id,
            codes.c.link_code_hash == bindparam("link_code_hash"),
            codes.c.expires_at > bindparam("now"),
        )
    )
)
_DEVICE = select(devices).where(_KEY)
_LIVE_DEVICE = select(devices).where(and_(_KEY, _LIVE_CODE))
_TAKE_DEVICE = (
    delete(devices)
    .where(and_(_KEY, _LIVE_CODE, devices.c.second_factor == bindparam("second_factor")))
    .returning(*devices.c)
)
"""The consume itself: the device goes (its codes with it) only if the code is live."""
_COUNT_FAILURE = (
    update(devices)
    .where(_KEY)
    .values(failed_attempts=devices.c.failed_attempts + 1)
    .returning(devices.c.failed_attempts, devices.c.second_factor)
)
_DELETE_DEVICE = delete(devices).where(_KEY)
_CODE_EXISTS = select(codes.c.code_id).where(
    and_(
        codes.c.link_code_hash == bindparam("link_code_hash"),
        codes.c.pre_auth_session_id == bindparam("device"),
    )
)
_DELETE_CONTACT_DEVICES = {
    column: delete(devices).where(
        and_(
            devices.c.tenant_id == bindparam("tenant"),
            devices.c[column] == bindparam("contact"),
        )
    )
    for column in ("email", "phone_number")
}


class SqlPasswordlessStore:
    def __init__(self, db: Database) -> None:
        self._db = db
        self._mark_verified = insert_ignoring_conflicts(db.dialect, verified_emails)

    async def create_device(
        self,
        tenant_id: str,
        pre_auth_session_id: str,
        contact: Contact,
        *,
        link_code_salt: bytes,
        code: NewCode,
        second_factor: bool = False,
    ) -> None:
        try:
            async with self._db.write() as conn:
                await conn.execute(
                    insert(devices).values(
                        pre_auth_session_id=pre_auth_session_id,
                        tenant_id=tenant_id,
                        email=contact.email,
                        phone_number=contact.phone_number,
                        link_code_salt=b64url_encode(link_code_salt),
                        failed_attempts=0,
                        created_at=code.created_at,
                        second_factor=second_factor,
                    )
                )
                await _insert_code(conn, pre_auth_session_id, code)
        except IntegrityError:
            async with self._db.read() as conn:
                known = await conn.execute(select(exists().where(tenants.c.tenant_id == tenant_id)))
                if not known.scalar():
                    raise UnknownTenant(f"tenant {tenant_id!r} does not exist") from None
            raise CodeCollision("a code with this link code exists") from None

    async def add_code(self, tenant_id: str, pre_auth_session_id: str, code: NewCode) -> bool:
        try:
            async with self._db.write() as conn:
                found = await conn.execute(
                    select(devices.c.pre_auth_session_id).where(
                        _device_key(tenant_id, pre_auth_session_id)
                    )
                )
                if found.first() is None:
                    return False
                await _insert_code(conn, pre_auth_session_id, code)
        except IntegrityError:
            raise CodeCollision("a code with this link code exists") from None
        return True

    async def device(self, tenant_id: str, pre_auth_session_id: str) -> DeviceRecord | None:
        async with self._db.read() as conn:
            found = await _devices(conn, _device_key(tenant_id, pre_auth_session_id))
        return found[0] if found else None

    async def devices_of(self, tenant_id: str, contact: Contact) -> list[DeviceRecord]:
        async with self._db.read() as conn:
            return await _devices(conn, _of_contact(tenant_id, contact.email, contact.phone_number))

    async def remove_device(self, tenant_id: str, pre_auth_session_id: str) -> bool:
        async with self._db.write() as conn:
            result = await conn.execute(
                delete(devices).where(_device_key(tenant_id, pre_auth_session_id))
            )
        return result.rowcount == 1

    async def remove_code(self, tenant_id: str, code_id: str) -> bool:
        async with self._db.write() as conn:
            row = (
                await conn.execute(
                    select(codes.c.pre_auth_session_id)
                    .select_from(codes.join(devices))
                    .where(and_(codes.c.code_id == code_id, devices.c.tenant_id == tenant_id))
                )
            ).first()
            if row is None:
                return False
            await conn.execute(delete(codes).where(codes.c.code_id == code_id))
            await conn.execute(
                delete(devices).where(
                    and_(
                        devices.c.pre_auth_session_id == row.pre_auth_session_id,
                        ~exists().where(codes.c.pre_auth_session_id == row.pre_auth_session_id),
                    )
                )
            )
        return True

    async def remove_devices_of(self, tenant_id: str, contact: Contact) -> None:
        async with self._db.write() as conn:
            await conn.execute(
                delete(devices).where(_of_contact(tenant_id, contact.email, contact.phone_number))
            )

    async def consume(
        self,
        tenant_id: str,
        pre_auth_session_id: str,
        proof: Proof,
        *,
        now: int,
        max_attempts: int,
        new_user_id: str | None,
        use_up: bool = True,
        second_factor: bool = False,
    ) -> Accepted | Refused:
        key = {"tenant": tenant_id, "device": pre_auth_session_id}
        if isinstance(proof, TypedCode):  # the device's salt turns the typed code into its hash
            async with self._db.read() as conn:
                row = (await conn.execute(_DEVICE, key)).first()
            if row is None:
                return Refused("restart")
            salt = b64url_decode(row.link_code_salt)
            link_code_hash = code_for(proof.device_id, salt, proof.user_input_code).link_code_hash
        else:
            link_code_hash = proof.link_code_hash
        live = {**key, "link_code_hash": link_code_hash, "now": now}
        if not use_up:  # a check: nothing is used up
            async with self._db.read() as conn:
                row = (await conn.execute(_LIVE_DEVICE, live)).first()
            if row is not None:
                return Accepted(_device(row, []), None)
        else:
            # One conditional write: of parallel consumes of one code, one deletes the device.
            async with self._db.write() as conn:
                taking = {**live, "second_factor": second_factor}
                row = (await conn.execute(_TAKE_DEVICE, taking)).first()
            if row is not None:
                device = _device(row, [])
                if new_user_id is None:  # a second factor: the code is spent, nobody signs in
                    return Accepted(device, None)
                user, method, created = await self._sign_in_up(device, new_user_id, now=now)
                return Accepted(device, user, created, method.recipe_user_id)
        if isinstance(proof, LinkCode):
            return Refused("restart")
        return await self._count_failure(key, link_code_hash, max_attempts, second_factor)

    async def _count_failure(
        self, key: dict[str, str], link_code_hash: str, max_attempts: int, second_factor: bool
    ) -> Refused:
        """A wrong or expired typed code: one more failure on the device, counted in the
        database (parallel wrong codes each count); the one that reaches the limit deletes it.
        A code presented for what its device was not made for (a second factor's code to sign
        in, or the reverse) counts too, and the attempt must start again."""
        async with self._db.write() as conn:
            counted = (await conn.execute(_COUNT_FAILURE, key)).first()
            if counted is None or bool(counted.second_factor) != second_factor:
                return Refused("restart")
            if wrong_code(counted.failed_attempts - 1, max_attempts).restart:
                await conn.execute(_DELETE_DEVICE, key)
                return Refused("restart")
            code = {"link_code_hash": link_code_hash, **key}
            expired = (await conn.execute(_CODE_EXISTS, code)).first() is not None
        return Refused("expired" if expired else "incorrect", counted.failed_attempts)

    async def _sign_in_up(
        self, device: DeviceRecord, new_user_id: str, *, now: int
    ) -> tuple[UserRecord, LoginMethodRecord, bool]:
        """The passwordless user of the consumed device's contact, created if there is none;
        the contact's other devices go, and an email is marked verified (the code proved it).
        Two consumes for one new contact at once: the unique index lets one create the user,
        and the other finds it on its second try."""
        tenant_id, email, phone = device.tenant_id, device.email, device.phone_number
        column, contact = ("email", email) if email is not None else ("phone_number", phone)
        for attempt in range(2):
            async with self._db.read() as conn:
                user = await find_passwordless_user(conn, tenant_id, email, phone)
            method = passwordless_method(user, tenant_id, email, phone)
            try:
                async with self._db.write() as conn:
                    await conn.execute(
                        _DELETE_CONTACT_DEVICES[column],
                        {"tenant": tenant_id, "contact": contact},
                    )
                    created = user is None or method is None
                    if user is None or method is None:
                        login = NewLoginMethod(RECIPE_ID, email=email, phone_number=phone)
                        user = await insert_user(conn, new_user_id, tenant_id, login, now=now)
                        method = user.login_methods[0]
                    if email is not None:
                        verified = {"user_id": method.recipe_user_id, "email": email}
                        await conn.execute(self._mark_verified, {**verified, "verified_at": now})
            except IntegrityError:
                if attempt:
                    raise
                continue
            return user, method, created
        raise AssertionError("unreachable")

    async def remove_expired(self, now: int) -> int:
        async with self._db.write() as conn:
            removed = await conn.execute(delete(codes).where(codes.c.expires_at <= now))
            await conn.execute(
                delete(devices).where(
                    ~exists().where(codes.c.pre_auth_session_id == devices.c.pre_auth_session_id)
                )
            )
        return int(removed.rowcount)


async def _insert_code(conn: AsyncConnection, pre_auth_session_id: str, code: NewCode) -> None:
    await conn.execute(
        insert(codes).values(
            code_id=code.code_id,
            pre_auth_session_id=pre_auth_session_id,
            link_code_hash=code.link_code_hash,
            created_at=code.created_at,
            expires_at=code.expires_at,
        )
    )


async def _devices(conn: AsyncConnection, which: Any) -> list[DeviceRecord]:
    rows = list(await conn.execute(select(devices).where(which)))
    if not rows:
        return []
    code_rows = list(
        await conn.execute(
            select(codes)
            .where(codes.c.pre_auth_session_id.in_([r.pre_auth_session_id for r in rows]))
            .order_by(codes.c.created_at, codes.c.code_id)
        )
    )
    return [
        _device(row, [c for c in code_rows if c.pre_auth_session_id == row.pre_auth_session_id])
        for row in rows
    ]
