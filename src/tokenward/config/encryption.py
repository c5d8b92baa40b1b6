"""Keys that encrypt secrets at rest (TOTP device secrets)."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, Field, SecretStr, field_validator
from pydantic_settings import NoDecode

from tokenward.shared.encoding import b64url_decode
from tokenward.shared.secret_box import KEY_BYTES


class EncryptionSettings(BaseModel):
    encryption_keys: Annotated[tuple[SecretStr, ...], NoDecode] = Field(
        default=(),
        description="Comma-separated base64url keys of 32 bytes (`tokenward keys encryption` "
        "makes one) that encrypt TOTP secrets at rest. The first encrypts, all decrypt: put a "
        "new key first to rotate. Empty: a key kept in the database is used, which protects "
        "nothing if the database leaks (tokenward warns at start outside localhost).",
    )

    @field_validator("encryption_keys", mode="before")
    @classmethod
    def _split_keys(cls, value: Any) -> Any:
        if isinstance(value, str):
            return tuple(k.strip() for k in value.split(",") if k.strip())
        return value

    @field_validator("encryption_keys")
    @classmethod
    def _key_length(cls, value: tuple[SecretStr, ...]) -> tuple[SecretStr, ...]:
        for n, key in enumerate(value, 1):
            try:
                raw = b64url_decode(key.get_secret_value())
            except ValueError:
                raise ValueError(f"key {n} is not base64url") from None
            if len(raw) != KEY_BYTES:
                raise ValueError(f"key {n} is {len(raw)} bytes; keys are {KEY_BYTES} bytes")
        return value

    @property
    def encryption_key_bytes(self) -> tuple[bytes, ...]:
        return tuple(b64url_decode(k.get_secret_value()) for k in self.encryption_keys)
