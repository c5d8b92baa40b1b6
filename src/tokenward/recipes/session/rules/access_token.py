"""SuperTokens access tokens, version 5: the JWT every SuperTokens SDK verifies locally.

The claim set, header and truncation rules are a wire contract: the SDKs read ``sub``,
``rsub``, ``tId``, ``sessionHandle`` and the two refresh-token hashes, and decide from
``parentRefreshTokenHash1`` whether to call the core at all. So minting always writes every
protected claim (the nullable ones as ``null``), and parsing checks the structure the
SuperTokens python SDK checks, so a token we accept is one the SDKs accept too.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any, NamedTuple

from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey, RSAPublicKey

from tokenward.shared import jwt
from tokenward.shared.token_errors import MalformedToken, ProtectedClaimError

VERSION = "5"
"""The only version we issue; older ones are parsed for tokens signed with imported keys."""

MIN_VERSION = 3
DEFAULT_TENANT_ID = "public"

PROTECTED_CLAIMS = frozenset(
    {
        "sub",
        "iat",
        "exp",
        "sessionHandle",
        "parentRefreshTokenHash1",
        "refreshTokenHash1",
        "antiCsrfToken",
        "rsub",
        "tId",
        "stt",
    }
)
"""Claims the session layer owns; the SDKs strip exactly these from user payloads.

``stt`` (session token type) is reserved although we never write it: SuperTokens marks
OAuth2 tokens with ``stt: 1`` and the SDKs refuse those as session tokens, so a user payload
must not be able to set it either.
"""

ISSUER_CLAIM = "iss"
_PROTECTED_AND_ISSUER = PROTECTED_CLAIMS | {ISSUER_CLAIM}


class AccessTokenClaims(NamedTuple):
    """Everything an access token asserts, in our names rather than the wire names.

    A named tuple rather than a frozen dataclass: one is built for every verified request, and
    a frozen dataclass costs about 2 µs more to build (a guarded ``__setattr__`` per field),
    several percent of a whole verification. Change it with ``_replace``.
    """

    user_id: str
    """``sub``: the primary user id (after account linking and user-id mapping)."""
    recipe_user_id: str
    """``rsub``: the login method's own user id; equal to ``user_id`` without linking."""
    tenant_id: str
    """``tId``."""
    session_handle: str
    refresh_token_hash1: str
    """sha256 hex of the refresh token issued alongside this access token."""
    parent_refresh_token_hash1: str | None
    """sha256 hex of the refresh token exchanged for this one; ``None`` once promoted."""
    anti_csrf_token: str | None
    issued_at_s: int
    expires_at_s: int
    issuer: str | None = None
    """``iss``; ``None`` when the user claims already carry it (SDKs put it there via CDI)."""
    user_claims: Mapping[str, Any] = MappingProxyType({})
    """Top-level claims that belong to the app (``st-ev``, ``st-role``, custom data)."""

    @property
    def expires_at_ms(self) -> int:
        """The expiry the front-token ``ate`` and CDI responses report (a whole second)."""
        return self.expires_at_s * 1000


def to_seconds(ms: int) -> int:
    """Truncate milliseconds to whole seconds, as SuperTokens does for ``iat`` and ``exp``.

    The core stores ``expiry - expiry % 1000`` so that the millisecond expiry it reports
    always equals ``exp * 1000`` in the JWT; we keep the same invariant.
    """
    return (ms - ms % 1000) // 1000


def header(kid: str) -> dict[str, str]:
    """The exact v5 header; the python SDK requires ``typ``, ``kid`` and ``version``."""
    return {"alg": jwt.ALGORITHM, "typ": jwt.JWT_TYPE, "kid": kid, "version": VERSION}


def check_user_payload(payload: Mapping[str, Any]) -> None:
    """Refuse user payloads that would overwrite a protected claim.

    Silently dropping them (as the SDKs do before calling the core) would hide a bug in the
    caller; the SuperTokens core likewise answers 400.
    """
    collisions = PROTECTED_CLAIMS.intersection(payload)
    if collisions:
        raise ProtectedClaimError(collisions)


def build_payload(claims: AccessTokenClaims) -> dict[str, Any]:
    """The JWT payload for ``claims``; also the ``up`` member of the front-token.

    Our ``issuer``, when set, wins over an ``iss`` among the user claims: the issuer is a
    property of this deployment, not of the user's data.
    """
    check_user_payload(claims.user_claims)
    payload: dict[str, Any] = {
        "sub": claims.user_id,
        "exp": claims.expires_at_s,
        "iat": claims.issued_at_s,
        "tId": claims.tenant_id,
        "rsub": claims.recipe_user_id,
        "sessionHandle": claims.session_handle,
        "refreshTokenHash1": claims.refresh_token_hash1,
        "parentRefreshTokenHash1": claims.parent_refresh_token_hash1,
        "antiCsrfToken": claims.anti_csrf_token,
    }
    if claims.issuer is not None:
        payload[ISSUER_CLAIM] = claims.issuer
    for name, value in claims.user_claims.items():
        if name == ISSUER_CLAIM and claims.issuer is not None:
            continue
        payload[name] = value
    return payload


def mint(claims: AccessTokenClaims, kid: str, key: RSAPrivateKey) -> str:
    """Sign a v5 access token.

    Raises ``ProtectedClaimError`` on a colliding user payload, and ``ValueError`` or
    ``TypeError`` when the user claims are not plain JSON (NaN, lone surrogates, objects).
    """
    return jwt.sign(header(kid), build_payload(claims), key)


def parse(
    token: str,
    public_keys: Mapping[str, RSAPublicKey],
    now_s: int,
    *,
    expected_issuer: str | None = None,
) -> AccessTokenClaims:
    """Verify ``token`` and read its claims.

    Raises ``TokenNeedsRefresh`` (bad signature, unknown key, expired) or ``MalformedToken``
    (anything we would not have issued). ``expected_issuer``, when given, must equal
    ``iss`` exactly; SuperTokens' SDKs do not check it, but an embedded verifier can.
    """
    parts = jwt.verify(token, public_keys, now_s=now_s)
    version = _version(parts.header)
    payload = parts.payload

    stt = payload.get("stt", 0)
    if type(stt) is not int or stt != 0:
        raise MalformedToken("not a session access token")
    user_id = _string(payload, "sub")
    session_handle = _string(payload, "sessionHandle")
    refresh_token_hash1 = _string(payload, "refreshTokenHash1")
    parent_hash1 = _optional_string(payload, "parentRefreshTokenHash1")
    anti_csrf_token = _optional_string(payload, "antiCsrfToken")
    issued_at_s = payload.get("iat")
    if type(issued_at_s) is not int:
        raise MalformedToken("access token has no valid iat")
    expires_at_s: int = payload["exp"]  # jwt.verify guarantees an int
    # v3 predates multi-tenancy and v4 predates account linking; SuperTokens reads them so.
    tenant_id = _string(payload, "tId") if version >= 4 else DEFAULT_TENANT_ID
    recipe_user_id = _string(payload, "rsub") if version >= 5 else user_id

    issuer = payload.get(ISSUER_CLAIM)
    if not isinstance(issuer, str):
        issuer = None
    if expected_issuer is not None and issuer != expected_issuer:
        raise MalformedToken("access token has the wrong issuer")

    # What is left of the payload is the app's. jwt.verify parsed it for this call alone, so it
    # is ours to trim (cheaper than copying the rest on every verification).
    user_claims = payload
    for name in PROTECTED_CLAIMS if issuer is None else _PROTECTED_AND_ISSUER:
        user_claims.pop(name, None)
    return AccessTokenClaims(
        user_id=user_id,
        recipe_user_id=recipe_user_id,
        tenant_id=tenant_id,
        session_handle=session_handle,
        refresh_token_hash1=refresh_token_hash1,
        parent_refresh_token_hash1=parent_hash1,
        anti_csrf_token=anti_csrf_token,
        issued_at_s=issued_at_s,
        expires_at_s=expires_at_s,
        issuer=issuer,
        user_claims=user_claims,
    )


def _version(token_header: Mapping[str, Any]) -> int:
    version = token_header.get("version")
    # At most 4 ASCII digits: rejects "５", "1e3" and int() of huge digit strings alike.
    if not (
        isinstance(version, str)
        and 0 < len(version) <= 4
        and version.isascii()
        and version.isdigit()
    ):
        raise MalformedToken("access token header has no valid version")
    number = int(version)
    if number < MIN_VERSION:
        raise MalformedToken("access token version is not supported")
    return number


def _string(payload: Mapping[str, Any], name: str) -> str:
    value = payload.get(name)
    if not isinstance(value, str):
        raise MalformedToken("access token is missing a required claim")
    return value


def _optional_string(payload: Mapping[str, Any], name: str) -> str | None:
    # Present-but-null is the v3+ contract; absence means a token we did not write.
    if name not in payload:
        raise MalformedToken("access token is missing a required claim")
    value = payload[name]
    if value is not None and not isinstance(value, str):
        raise MalformedToken("access token claim has the wrong type")
    return value
