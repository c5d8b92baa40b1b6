"""The user a provider describes: its id, email and whether that email is verified, read from
the id token's claims and the user-info answer by the provider's field map (dotted paths)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from tokenward.recipes.thirdparty.rules.built_ins import UserFields
from tokenward.recipes.thirdparty.rules.providers import Client, Provider

EMAILS = "emails"
"""The key under which the user-emails answer is added to the user info (as SuperTokens adds
GitHub's to its raw user info); it replaces whatever the provider put there."""

FAKE_EMAIL_DOMAIN = "stfakeemail.supertokens.com"
"""SuperTokens' domain for the made-up email of a user whose provider gives none."""


class NoUserId(ValueError):
    """The provider's answers carry no user id where the configuration says it is, or the id
    token and the user info name different users."""


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


def primary_email(emails: Any) -> tuple[str, bool] | None:
    """The primary address of a user-emails list (GitHub's ``{email, primary, verified}``,
    Bitbucket's ``{email, is_primary, is_confirmed}``) and whether it is verified, or None when
    none is primary."""
    if not isinstance(emails, list):
        return None
    for entry in emails:
        if not isinstance(entry, Mapping):
            continue
        if entry.get("primary") is True or entry.get("is_primary") is True:
            email = entry.get("email")
            if isinstance(email, str) and email:
                verified = entry.get("verified") is True or entry.get("is_confirmed") is True
                return email, verified
    return None


class WrongHostedDomain(ValueError):
    """A Google Workspaces account of another domain than the client's ``hd``."""


def check_hosted_domain(
    provider: Provider,
    client: Client,
    id_token_claims: Mapping[str, Any] | None,
    user_info: Mapping[str, Any] | None,
) -> None:
    """For Google Workspaces: the account's ``hd`` (from the verified id token, else the user
    info) must be the client's ``additionalConfig.hd``, or any domain for ``*``; a personal
    account has none and is refused either way (the ``hd`` sent to Google is only a hint the
    user can remove from the URL). Raises WrongHostedDomain."""
    if not provider.hosted_domain:
        return
    wanted = client.additional_config.get("hd", "*")
    source = id_token_claims if id_token_claims is not None else user_info
    hd = source.get("hd") if source is not None else None
    if not isinstance(hd, str) or not hd or (wanted != "*" and hd != wanted):
        raise WrongHostedDomain(f"{provider.third_party_id}: the account is not of {wanted}")


def provider_user(
    provider: Provider,
    *,
    id_token_claims: Mapping[str, Any] | None,
    user_info: Mapping[str, Any] | None,
) -> ProviderUser:
    """The user, the user-info answer winning over the id token where both give a field, and the
    primary address of the user-emails answer (``EMAILS``) over both when the provider lists
    emails. The email counts as verified only when the provider says so (``true`` or
    ``"true"``) and the provider is trusted to. When both name the user, they must name the same
    one (OIDC Core 5.3.2): an access token of another user cannot ride on our id token."""
    token_id, token_email, token_verified = _from(id_token_claims, provider.from_id_token)
    info_id, info_email, info_verified = _from(user_info, provider.from_user_info)
    if _text_id(token_id) and _text_id(info_id) and _text_id(token_id) != _text_id(info_id):
        raise NoUserId(f"{provider.third_party_id}: the id token and the user info disagree")
    user_id = info_id if info_id not in (None, "") else token_id
    if isinstance(user_id, int) and not isinstance(user_id, bool):
        user_id = str(user_id)  # GitHub's and Discord's ids are numbers
    if not isinstance(user_id, str) or not user_id:
        raise NoUserId(f"{provider.third_party_id} gave no user id")
    email = info_email if isinstance(info_email, str) and info_email else token_email
    if not isinstance(email, str) or not email:
        email = None
    verified = info_verified if info_verified is not None else token_verified
    listed = user_info.get(EMAILS) if user_info and provider.user_emails_endpoint else None
    primary = primary_email(listed)
    if primary is not None:
        email, verified = primary
    said_verified = verified is True or (isinstance(verified, str) and verified == "true")
    return ProviderUser(
        provider.third_party_id,
        user_id,
        email.strip().lower() if email else None,
        email is not None and said_verified and provider.trust_email_verified,
    )


def names_a_user(provider: Provider, user_info: Mapping[str, Any] | None) -> bool:
    """Whether the user-info answer gives a user id where the provider's map says (so that it
    can be compared with the id token's)."""
    return _text_id(field(user_info, provider.from_user_info.user_id)) is not None


def _text_id(value: Any) -> str | None:
    if isinstance(value, bool) or not isinstance(value, str | int):
        return None
    return str(value) or None


def fake_email(third_party_id: str, user_id: str) -> str:
    """SuperTokens' stand-in when a provider gives no email and the configuration does not
    require one."""
    return f"{user_id}.{third_party_id}@{FAKE_EMAIL_DOMAIN}"
