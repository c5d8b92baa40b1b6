"""The JWT recipe's settings (part of ``tokenward.config.Settings``)."""

from __future__ import annotations

from pydantic import BaseModel, Field


class JwtSettings(BaseModel):
    signing_key_rotation_interval: int = Field(
        default=168,
        ge=1,
        le=8760,
        description="Hours between access-token signing-key rotations.",
    )
