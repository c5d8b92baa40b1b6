"""Figure 6's fastapi-users peer: its JWT strategy (RS256 here, as tokenward signs) with a bearer
transport, users in a SQLite file through SQLAlchemy, and Argon2id with tokenward's default
parameters. Run by bench/peers.py with uvicorn; the environment gives USERS_DB (a file path).

fastapi-users' own SQLAlchemy adapter caps SQLAlchemy below 2.1, so the user database here is a
small adapter of our own over one table.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from fastapi import Depends, FastAPI
from fastapi_users import BaseUserManager, FastAPIUsers, UUIDIDMixin, schemas
from fastapi_users.authentication import AuthenticationBackend, BearerTransport, JWTStrategy
from fastapi_users.db import BaseUserDatabase
from fastapi_users.password import PasswordHelper
from pwdlib import PasswordHash
from pwdlib.hashers.argon2 import Argon2Hasher
from sqlalchemy import Boolean, Column, MetaData, String, Table, insert, select, update
from sqlalchemy.ext.asyncio import create_async_engine

from tokenward.config import Settings

metadata = MetaData()
users = Table(
    "users",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("email", String(320), nullable=False, unique=True),
    Column("hashed_password", String(1024), nullable=False),
    Column("is_active", Boolean, nullable=False),
    Column("is_superuser", Boolean, nullable=False),
    Column("is_verified", Boolean, nullable=False),
)
engine = create_async_engine(f"sqlite+aiosqlite:///{os.environ['USERS_DB']}")


@dataclass
class User:
    email: str
    hashed_password: str
    id: uuid.UUID = field(default_factory=uuid.uuid4)
    is_active: bool = True
    is_superuser: bool = False
    is_verified: bool = False


def _user(row: Any) -> User:
    return User(
        row.email,
        row.hashed_password,
        uuid.UUID(row.id),
        row.is_active,
        row.is_superuser,
        row.is_verified,
    )


class UserDatabase(BaseUserDatabase[User, uuid.UUID]):
    async def get(self, id: uuid.UUID) -> User | None:
        return await self._one(users.c.id == str(id))

    async def get_by_email(self, email: str) -> User | None:
        return await self._one(users.c.email == email.lower())

    async def create(self, create_dict: dict[str, Any]) -> User:
        user = User(**{**create_dict, "email": create_dict["email"].lower()})
        async with engine.begin() as conn:
            await conn.execute(insert(users).values(**{**vars(user), "id": str(user.id)}))
        return user

    async def update(self, user: User, update_dict: dict[str, Any]) -> User:
        async with engine.begin() as conn:
            await conn.execute(update(users).where(users.c.id == str(user.id)).values(update_dict))
        return User(**{**vars(user), **update_dict})

    async def _one(self, condition: Any) -> User | None:
        async with engine.connect() as conn:
            row = (await conn.execute(select(users).where(condition))).first()
        return None if row is None else _user(row)


class UserManager(UUIDIDMixin, BaseUserManager[User, uuid.UUID]):
    pass


defaults = Settings()
hasher = Argon2Hasher(
    time_cost=defaults.password_hash_time_cost,
    memory_cost=defaults.password_hash_memory_kib,
    parallelism=defaults.password_hash_parallelism,
)
password_helper = PasswordHelper(PasswordHash((hasher,)))
private_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
private_pem = private_key.private_bytes(
    serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
).decode()
public_pem = (
    private_key.public_key()
    .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    .decode()
)


async def user_manager() -> AsyncIterator[UserManager]:
    yield UserManager(UserDatabase(), password_helper)


def jwt_strategy() -> JWTStrategy[User, uuid.UUID]:
    return JWTStrategy(private_pem, 3600, algorithm="RS256", public_key=public_pem)


backend = AuthenticationBackend("jwt", BearerTransport("auth/jwt/login"), jwt_strategy)
fastapi_users = FastAPIUsers[User, uuid.UUID](user_manager, [backend])
current_user = fastapi_users.current_user(active=True)


@asynccontextmanager
async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
    async with engine.begin() as conn:
        await conn.run_sync(metadata.create_all)
    yield
    await engine.dispose()


app = FastAPI(lifespan=lifespan)
app.include_router(fastapi_users.get_auth_router(backend), prefix="/auth/jwt")
app.include_router(
    fastapi_users.get_register_router(schemas.BaseUser[uuid.UUID], schemas.BaseUserCreate),
    prefix="/auth",
)


@app.get("/api/me")
async def me(user: User = Depends(current_user)) -> dict[str, str]:
    return {"userId": str(user.id)}
