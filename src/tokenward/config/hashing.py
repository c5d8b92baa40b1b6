"""The password-hashing pool's settings (Argon2id cost and the bounded pool)."""

from __future__ import annotations

from pydantic import BaseModel, Field


class PasswordHashingSettings(BaseModel):
    password_hash_memory_kib: int = Field(
        default=19456, ge=7168, description="Argon2id memory cost in KiB (OWASP: 19 MiB)."
    )
    password_hash_time_cost: int = Field(default=2, ge=1, le=20, description="Argon2id passes.")
    password_hash_parallelism: int = Field(default=1, ge=1, le=16, description="Argon2id lanes.")
    password_hashing_pool_size: int | None = Field(
        default=None,
        ge=1,
        le=256,
        description="Threads that hash passwords concurrently. Default: the number of CPUs.",
    )
    password_hashing_queue_limit: int = Field(
        default=256,
        ge=1,
        le=100_000,
        description="Password hashes that may wait for a thread; beyond it sign-in and sign-up "
        "answer 503 with Retry-After.",
    )
