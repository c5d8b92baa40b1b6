"""Client secrets a provider wants signed rather than stored: Apple's is an ES256 JWT made from
the team's key (``additionalConfig``: ``keyId``, ``teamId``, ``privateKey``), good for at most six
months, as SuperTokens makes it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import load_pem_private_key

APPLE_AUDIENCE = "https://appleid.apple.com"
APPLE_SECRET_LIFETIME_S = 86_400 * 180


class InvalidSigningKey(ValueError):
    """The key to sign client secrets with is missing or unusable; the message says which."""


@dataclass(frozen=True, slots=True)
class SecretSigner:
    """What signs a client's secret: Apple's team id, key id and EC P-256 private key (PEM)."""

    team_id: str
    key_id: str
    private_key: str = field(repr=False)

    @classmethod
    def from_additional_config(cls, extra: dict[str, Any]) -> SecretSigner:
        """Raises InvalidSigningKey when a value is missing or the key is not an EC key."""
        values = [extra.get(name) for name in ("teamId", "keyId", "privateKey")]
        if not all(isinstance(v, str) and v for v in values):
            raise InvalidSigningKey("additionalConfig needs keyId, teamId and privateKey")
        team_id, key_id, pem = (str(v) for v in values)
        pem = pem.replace("\\n", "\n")  # a key pasted into JSON on one line
        try:
            key = load_pem_private_key(pem.encode(), password=None)
        except (ValueError, TypeError):
            raise InvalidSigningKey("privateKey is not a PEM private key") from None
        if not isinstance(key, ec.EllipticCurvePrivateKey) or key.curve.name != "secp256r1":
            raise InvalidSigningKey("privateKey must be an EC P-256 key (Apple's .p8 key)")
        return cls(team_id, key_id, pem)

    def client_secret(self, client_id: str, now_s: int) -> str:
        claims = {
            "iss": self.team_id,
            "iat": now_s,
            "exp": now_s + APPLE_SECRET_LIFETIME_S,
            "aud": APPLE_AUDIENCE,
            "sub": client_id,
        }
        return jwt.encode(claims, self.private_key, algorithm="ES256", headers={"kid": self.key_id})
