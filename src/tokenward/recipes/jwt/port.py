"""Storage of the signing keys and of the deployment's other secrets."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True, slots=True)
class SigningKeyRecord:
    kid: str
    algorithm: str
    private_key: str
    created_at: int


class SigningKeyStore(Protocol):
    async def all(self) -> list[SigningKeyRecord]:
        """Every stored key, newest first."""
        ...

    async def add(self, key: SigningKeyRecord) -> bool:
        """Store a key; False if one with the same kid exists (another instance made it)."""
        ...

    async def delete_created_before(self, created_at: int) -> int: ...


class SecretStore(Protocol):
    async def get_or_create(self, name: str, value: str, *, now: int) -> str:
        """Return the stored secret ``name``, storing ``value`` first if there is none. Every
        instance that races here gets the same stored value."""
        ...
