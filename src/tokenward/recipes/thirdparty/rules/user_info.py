"""The user a provider describes: its id, email and whether that email is verified, read from
the id token's claims and the user-info answer by the provider's field map (dotted paths)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from tokenward.recipes.thirdparty.rules.providers import Provider, UserFields

FAKE_EMAIL_DOMAIN = "stfakeemail.supertokens.com"
"""SuperTokens' domain for the made-up email of a user whose provider gives none."""


class NoUserId(ValueError):
    """The provider's answers carry no user id where the configuration says it is."""


@dataclass(frozen=True, slots=True)
class ProviderUser:
    third_party_id: str
    user_id: str
    email: str | None
    email_verified: bool


def field(data: Mapping[str, Any] | None, path: str | None) -> Any:
    """The value at a dotted path (``data.id``), or None."""
    if data is None or not path:
        return None
    value: Any = data
    for part in path.split("."):
        if not isinstance(value, Mapping):
            return None
        value = value.get(part)
    return value


def _from(data: Mapping[str, Any] | None, fields: UserFields) -> tuple[Any, Any, Any]:
    return (
        field(data, fields.user_id),
        field(data, fields.email),
        field(data, fields.email_verified),
    )


def provider_user(
    provider: Provider,
    *,
    id_token_claims: Mapping[str, Any] | None,
    user_info: Mapping[str, Any] | None,
) -> ProviderUser:
    """The user, the user-info answer winning over the id token where both give a field. The
    email counts as verified only when the provider says so (``true`` or ``"true"``) and the
    provider is trusted to."""
    token_id, token_email, token_verified = _from(id_token_claims, provider.from_id_token)
    info_id, info_email, info_verified = _from(user_info, provider.from_user_info)
    user_id = info_id if info_id not in (None, "") else token_id
    if isinstance(user_id, int) and not isinstance(user_id, bool):
        user_id = str(user_id)  # GitHub's and Discord's ids are numbers
    if not isinstance(user_id, str) or not user_id:
        raise NoUserId(f"{provider.third_party_id} gave no user id")
    email = info_email if isinstance(info_email, str) and info_email else token_email
    if not isinstance(email, str) or not email:
        email = None
    verified = info_verified if info_verified is not None else token_verified
    said_verified = verified is True or (isinstance(verified, str) and verified == "true")
    return ProviderUser(
        provider.third_party_id,
        user_id,
        email.strip().lower() if email else None,
        email is not None and said_verified and provider.trust_email_verified,
    )


def fake_email(third_party_id: str, user_id: str) -> str:
    """SuperTokens' stand-in when a provider gives no email and the configuration does not
    require one."""
    return f"{user_id}.{third_party_id}@{FAKE_EMAIL_DOMAIN}"
