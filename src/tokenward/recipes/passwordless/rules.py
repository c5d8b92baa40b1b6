"""The passwordless recipe's rules: codes, links, contacts and the wrong-attempt count.

Codes are made as SuperTokens' core makes them, so a typed code and a clicked link are two
spellings of one code:

* a **device** (one email or phone, one sign-in attempt) has a secret ``deviceId`` (standard
  base64 of 32 random bytes, held only by the browser) and a ``linkCodeSalt`` (32 random bytes,
  stored);
* its ``preAuthSessionId`` is base64url(SHA-256(deviceId bytes)): the device's public name;
* each code of the device is a 6-digit ``userInputCode``; its ``linkCode`` is
  base64url(HMAC-SHA256(key = deviceId bytes ‖ salt, message = userInputCode));
* only base64url(SHA-256(linkCode bytes)) is stored. A consume by link looks the code up by that
  hash; a consume by device id and typed code recomputes the link code first.

No I/O; randomness comes from ``secrets``, time is an argument.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from enum import StrEnum

from tokenward.shared.encoding import b64_decode, b64_encode, b64url_decode, b64url_encode

RECIPE_ID = "passwordless"
CODE_DIGITS = 6
_SECRET_BYTES = 32


class FlowType(StrEnum):
    USER_INPUT_CODE = "USER_INPUT_CODE"
    MAGIC_LINK = "MAGIC_LINK"
    USER_INPUT_CODE_AND_MAGIC_LINK = "USER_INPUT_CODE_AND_MAGIC_LINK"

    @property
    def sends_code(self) -> bool:
        return self is not FlowType.MAGIC_LINK

    @property
    def sends_link(self) -> bool:
        return self is not FlowType.USER_INPUT_CODE


class ContactMethod(StrEnum):
    EMAIL = "EMAIL"
    PHONE = "PHONE"
    EMAIL_OR_PHONE = "EMAIL_OR_PHONE"

    @property
    def takes_email(self) -> bool:
        return self is not ContactMethod.PHONE

    @property
    def takes_phone(self) -> bool:
        return self is not ContactMethod.EMAIL


class InvalidDeviceId(ValueError):
    """A device id that no device could have: not base64 of 32 bytes."""


@dataclass(frozen=True, slots=True)
class DeviceSecret:
    """What a new device is made of: its secret id (given to the browser) and its salt (kept)."""

    device_id: str
    link_code_salt: bytes

    @property
    def pre_auth_session_id(self) -> str:
        return pre_auth_session_id(self.device_id)


@dataclass(frozen=True, slots=True)
class Code:
    """One code of a device, in the three forms the flows use."""

    user_input_code: str
    link_code: str
    link_code_hash: str


def new_device() -> DeviceSecret:
    return DeviceSecret(
        b64_encode(secrets.token_bytes(_SECRET_BYTES)), secrets.token_bytes(_SECRET_BYTES)
    )


def new_user_input_code() -> str:
    return f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"


def device_id_bytes(device_id: str) -> bytes:
    try:
        raw = b64_decode(device_id)
    except ValueError:
        raise InvalidDeviceId("not a device id") from None
    if len(raw) != _SECRET_BYTES:
        raise InvalidDeviceId("not a device id")
    return raw


def pre_auth_session_id(device_id: str) -> str:
    return b64url_encode(hashlib.sha256(device_id_bytes(device_id)).digest())


def code_for(device_id: str, link_code_salt: bytes, user_input_code: str) -> Code:
    """The code ``user_input_code`` of the device, with its link code and stored hash."""
    key = device_id_bytes(device_id) + link_code_salt
    mac = hmac.new(key, user_input_code.encode("utf-8"), hashlib.sha256).digest()
    link = b64url_encode(mac)
    return Code(user_input_code, link, _hash(mac))


def link_code_hash(link_code: str) -> str | None:
    """The stored hash of a link code, or None when ``link_code`` cannot be one."""
    try:
        raw = b64url_decode(link_code)
    except ValueError:
        return None
    return _hash(raw) if len(raw) == hashlib.sha256().digest_size else None


def _hash(raw: bytes) -> str:
    return b64url_encode(hashlib.sha256(raw).digest())


def flow_for(configured: FlowType) -> FlowType:
    """The flow a new code is sent in. One today; per tenant and per MFA factor later (the
    valid factors narrow it to links or codes only, as SuperTokens does)."""
    return configured


def magic_link(website: str, pre_auth_session_id: str, tenant_id: str, link_code: str) -> str:
    """The link the email or SMS carries, in SuperTokens' format. The link code sits in the
    fragment, so the browser never sends it in a request line (or to a server's access log)."""
    query = f"preAuthSessionId={pre_auth_session_id}&tenantId={tenant_id}"
    return f"{website}/verify?{query}#{link_code}"


@dataclass(frozen=True, slots=True)
class WrongCode:
    """What one wrong or expired typed code does to its device."""

    failed_attempts: int
    """The device's count after this attempt."""
    restart: bool
    """The limit is reached: the device is deleted and the user must start again."""


def wrong_code(failed_before: int, max_attempts: int) -> WrongCode:
    """A wrong or expired typed code counts against the device; the attempt that reaches the
    limit deletes it (``RESTART_FLOW_ERROR``), as SuperTokens' core does."""
    failed = failed_before + 1
    return WrongCode(failed, restart=failed >= max_attempts)
