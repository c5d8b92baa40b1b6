"""The JWKS document (for the OpenAPI document)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from tokenward.http.schemas import (
    Reply,
)


class Jwk(Reply):
    kty: Literal["RSA"]
    kid: str
    n: str = Field(description="Modulus, base64url")
    e: str = Field(description="Exponent, base64url")
    alg: Literal["RS256"]
    use: Literal["sig"]


class Jwks(Reply):
    keys: list[Jwk]
