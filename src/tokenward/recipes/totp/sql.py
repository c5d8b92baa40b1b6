"""TOTP devices and failed-attempt counters in SQL.

Both atomic steps are one conditional write: spending a code's time step (``last_step`` only
moves forward, so a code is accepted once however many requests carry it) and charging an
attempt (an upsert that refuses while the user is locked).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import and_, case, delete, insert, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError

from tokenward.recipes.totp.errors import DeviceAlreadyExists, UnknownDevice, UnknownUser
from tokenward.recipes.totp.port import Charged, DeviceRecord, Locked
from tokenward.recipes.totp.rules import AttemptBudget, retry_after_ms
from tokenward.shared.database.engine import Database
from tokenward.shared.database.schema import totp_attempts as attempts
from tokenward.shared.database.schema import totp_devices as devices
from tokenward.shared.database.schema import users


def _key(user_id: str, name: str) -> Any:
    return and_(devices.c.user_id == user_id, devices.c.name == name)


def _device(row: Any) -> DeviceRecord:
    return DeviceRecord(
        user_id=row.user_id,
        name=row.name,
        sealed_secret=row.secret,
        period=row.period,
        digits=row.digits,
        skew=row.skew,
        verified=bool(row.verified),
        created_at=row.created_at,
        last_step=row.last_step,
    )


class SqlTotpStore:
    def __init__(self, db: Database) -> None:
        self._db = db
        dialect = postgresql if db.dialect == "postgresql" else sqlite
        self._upsert = dialect.insert(attempts)

    async def devices(self, user_id: str) -> list[DeviceRecord]:
        async with self._db.read() as conn:
            rows = await conn.execute(
                select(devices)
                .where(devices.c.user_id == user_id)
                .order_by(devices.c.created_at, devices.c.name)
            )
            return [_device(row) for row in rows]

    async def put_device(self, device: DeviceRecord) -> None:
        async with self._db.write() as conn:
            known = select(users.c.user_id).where(users.c.user_id == device.user_id)
            if (await conn.execute(known)).first() is None:
                raise UnknownUser(device.user_id)
            await conn.execute(
                delete(devices).where(
                    and_(_key(device.user_id, device.name), devices.c.verified.is_(False))
                )
            )
            try:
                await conn.execute(
                    insert(devices).values(
                        user_id=device.user_id,
                        name=device.name,
                        secret=device.sealed_secret,
                        period=device.period,
                        digits=device.digits,
                        skew=device.skew,
                        verified=device.verified,
                        created_at=device.created_at,
                        last_step=device.last_step,
                    )
                )
            except IntegrityError:
                # A verified device has the name (the delete above spared it).
                raise DeviceAlreadyExists(device.name) from None

    async def remove_device(
        self, user_id: str, name: str, *, verified: bool | None = None
    ) -> DeviceRecord | None:
        which = _key(user_id, name)
        if verified is not None:
            which = and_(which, devices.c.verified.is_(verified))
        async with self._db.write() as conn:
            row = (await conn.execute(delete(devices).where(which).returning(*devices.c))).first()
            return None if row is None else _device(row)

    async def rename_device(self, user_id: str, old: str, new: str) -> None:
        async with self._db.write() as conn:
            try:
                renamed = await conn.execute(
                    update(devices).where(_key(user_id, old)).values(name=new)
                )
            except IntegrityError:
                raise DeviceAlreadyExists(new) from None
            if renamed.rowcount != 1:
                raise UnknownDevice(old)

    async def accept(self, user_id: str, name: str, step: int, *, verify: bool) -> bool | None:
        async with self._db.write() as conn:
            before = (
                await conn.execute(select(devices.c.verified).where(_key(user_id, name)))
            ).first()
            if before is None:
                return None
            values: dict[str, Any] = {"last_step": step}
            if verify:
                values["verified"] = True
            spent = await conn.execute(
                update(devices)
                .where(
                    and_(
                        _key(user_id, name),
                        or_(devices.c.last_step.is_(None), devices.c.last_step < step),
                    )
                )
                .values(**values)
            )
            if spent.rowcount != 1:
                return None
            await conn.execute(delete(attempts).where(attempts.c.user_id == user_id))
            return bool(before.verified)

    async def charge(self, user_id: str, now: int, budget: AttemptBudget) -> Charged | Locked:
        lock_over = attempts.c.last_failure_at + budget.cooldown_ms <= now
        statement = (
            self._upsert.values(user_id=user_id, failures=1, last_failure_at=now)
            .on_conflict_do_update(
                index_elements=[attempts.c.user_id],
                set_={
                    "failures": case((lock_over, 1), else_=attempts.c.failures + 1),
                    "last_failure_at": now,
                },
                where=or_(attempts.c.failures < budget.max_attempts, lock_over),
            )
            .returning(attempts.c.failures)
        )
        async with self._db.write() as conn:
            try:
                row = (await conn.execute(statement)).first()
            except IntegrityError:
                raise UnknownUser(user_id) from None
            if row is not None:
                return Charged(row.failures)
            last = (
                await conn.execute(
                    select(attempts.c.last_failure_at).where(attempts.c.user_id == user_id)
                )
            ).scalar_one()
        return Locked(retry_after_ms(last, now, budget))
