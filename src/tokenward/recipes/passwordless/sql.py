"""Passwordless devices and codes in SQL, and the consume transaction."""

from __future__ import annotations

from typing import Any

from sqlalchemy import and_, bindparam, delete, exists, insert, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql.dml import Insert

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
from tokenward.recipes.passwordless.rules import RECIPE_ID, code_for, is_expired, wrong_code
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
    )


_OWN = select(devices.c.email, devices.c.phone_number).where(
    devices.c.pre_auth_session_id == bindparam("pre_auth_session_id")
)
_CONTACT_DEVICES = (
    select(devices)
    .where(
        and_(
            devices.c.tenant_id == bindparam("tenant_id"),
            or_(
                devices.c.email == _OWN.with_only_columns(devices.c.email).scalar_subquery(),
                devices.c.phone_number
                == _OWN.with_only_columns(devices.c.phone_number).scalar_subquery(),
            ),
        )
    )
    .order_by(devices.c.pre_auth_session_id)
    .with_for_update()
)
"""The devices of the contact of device ``pre_auth_session_id`` (it among them), locked."""

_DELETE_DEVICES = delete(devices).where(
    devices.c.pre_auth_session_id.in_(bindparam("ids", expanding=True))
)

_CODE_EXPIRY = select(codes.c.expires_at).where(
    and_(
        codes.c.link_code_hash == bindparam("link_code_hash"),
        codes.c.pre_auth_session_id == bindparam("pre_auth_session_id"),
    )
)


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
    ) -> Accepted | Refused:
        async with self._db.write() as conn:
            # Every device of this device's contact, locked in one order: a success deletes
            # them all, and two successes with two devices of one email must queue, not
            # deadlock. (SQLite's write transaction holds the database already; FOR UPDATE is
            # PostgreSQL's.) One statement finds the device and its siblings.
            rows = list(
                await conn.execute(
                    _CONTACT_DEVICES,
                    {"tenant_id": tenant_id, "pre_auth_session_id": pre_auth_session_id},
                )
            )
            row = next((r for r in rows if r.pre_auth_session_id == pre_auth_session_id), None)
            if row is None:  # unknown, or consumed while this transaction waited
                return Refused("restart")
            failed_before = row.failed_attempts
            device = _device(row, [])
            if isinstance(proof, TypedCode):
                typed = code_for(proof.device_id, device.link_code_salt, proof.user_input_code)
                link_code_hash = typed.link_code_hash
            else:
                link_code_hash = proof.link_code_hash
            code = (
                await conn.execute(
                    _CODE_EXPIRY,
                    {"link_code_hash": link_code_hash, "pre_auth_session_id": pre_auth_session_id},
                )
            ).first()
            if code is not None and not is_expired(code.expires_at, now):
                if new_user_id is None:
                    return Accepted(device, None)
                ids = [r.pre_auth_session_id for r in rows]
                await conn.execute(_DELETE_DEVICES, {"ids": ids})
                user, method, created = await _sign_in_up(
                    conn, self._mark_verified, device, new_user_id, now=now
                )
                return Accepted(device, user, created, method.recipe_user_id)
            if isinstance(proof, LinkCode):
                return Refused("restart")
            wrong = wrong_code(failed_before, max_attempts)
            if wrong.restart:
                await conn.execute(
                    delete(devices).where(_device_key(tenant_id, pre_auth_session_id))
                )
                return Refused("restart")
            await conn.execute(
                update(devices)
                .where(_device_key(tenant_id, pre_auth_session_id))
                .values(failed_attempts=wrong.failed_attempts)
            )
            if code is None:
                return Refused("incorrect", wrong.failed_attempts)
            return Refused("expired", wrong.failed_attempts)

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


async def _sign_in_up(
    conn: AsyncConnection,
    mark_verified: Insert,
    device: DeviceRecord,
    new_user_id: str,
    *,
    now: int,
) -> tuple[UserRecord, LoginMethodRecord, bool]:
    """The passwordless user of the device's contact, created if there is none; an email
    login method is marked verified (the code proved the address)."""
    tenant_id, email, phone = device.tenant_id, device.email, device.phone_number
    user = await find_passwordless_user(conn, tenant_id, email, phone)
    method = passwordless_method(user, tenant_id, email, phone)
    created = user is None or method is None
    if user is None or method is None:
        user = await insert_user(
            conn,
            new_user_id,
            tenant_id,
            NewLoginMethod(RECIPE_ID, email=email, phone_number=phone),
            now=now,
        )
        method = user.login_methods[0]
    if email is not None:
        await conn.execute(
            mark_verified, {"user_id": method.recipe_user_id, "email": email, "verified_at": now}
        )
    return user, method, created
