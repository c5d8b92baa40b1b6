"""Cookie attributes and anti-CSRF mode, derived from the API and website origins.

The defaults follow the SuperTokens SDKs so an app configured for them behaves the same
here: cookies are ``SameSite=Lax`` unless the frontend is on another site (then ``None``,
which browsers only accept with ``Secure``), and cross-site cookies switch on the
custom-header CSRF check, since ``Lax`` no longer protects them.

"Same site" is decided without a public-suffix list: the registrable domain is taken to be
the last two labels of the host (``api.example.com`` -> ``example.com``), except that
``localhost`` and IP addresses stand for themselves. That errs on the side of "same site"
for hosts under multi-label public suffixes (``a.github.io`` vs ``b.github.io``, or
``*.co.uk``), where the SDKs' real list says "different sites"; such deployments must set
``SameSite`` explicitly. The failure mode is cookies a browser will not send (sessions that
do not stick), never a weaker CSRF defence, because ``Lax`` cookies are not sent cross-site.
"""

from __future__ import annotations

import ipaddress
from enum import StrEnum
from typing import Literal
from urllib.parse import urlsplit

SameSite = Literal["lax", "none", "strict"]


class AntiCsrfMode(StrEnum):
    """The SDKs' ``anti_csrf`` setting values."""

    NONE = "NONE"
    VIA_CUSTOM_HEADER = "VIA_CUSTOM_HEADER"
    """Non-GET requests must carry a ``rid`` header, which forces a CORS preflight."""
    VIA_TOKEN = "VIA_TOKEN"  # noqa: S105 - a mode name, not a secret
    """A per-session token in the JWT and refresh token, echoed in ``anti-csrf``."""


def _scheme_and_host(origin: str) -> tuple[str, str]:
    """Split an origin such as ``https://api.example.com:443/path``.

    A bare host gets the scheme the SDKs' URL normalisation would give it: ``http`` for
    localhost and IP addresses, ``https`` for everything else.
    """
    text = origin.strip()
    if "://" not in text:
        bare_host = urlsplit("//" + text).hostname or ""
        default = "http" if _is_local(bare_host) else "https"
        text = f"{default}://{text}"
    parts = urlsplit(text)
    host = (parts.hostname or "").rstrip(".")
    if not parts.scheme or not host:
        raise ValueError("not an origin")
    return parts.scheme.lower(), host


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def _is_local(host: str) -> bool:
    return host == "localhost" or _is_ip(host)


def site_of(host: str) -> str:
    """The approximate registrable domain of ``host`` (see the module docstring)."""
    if _is_local(host):
        return host
    return ".".join(host.split(".")[-2:])


def same_site(api_domain: str, website_domain: str, override: SameSite | None = None) -> SameSite:
    """The ``SameSite`` attribute for session cookies; an explicit setting always wins."""
    if override is not None:
        return override
    api_scheme, api_host = _scheme_and_host(api_domain)
    web_scheme, web_host = _scheme_and_host(website_domain)
    if api_scheme != web_scheme or site_of(api_host) != site_of(web_host):
        return "none"
    return "lax"


def secure(api_domain: str, override: bool | None = None) -> bool:
    """Whether cookies get ``Secure``: by default, exactly when the API is served over https."""
    if override is not None:
        return override
    scheme, _host = _scheme_and_host(api_domain)
    return scheme == "https"


def anti_csrf_mode(
    cookie_same_site: SameSite, override: AntiCsrfMode | None = None
) -> AntiCsrfMode:
    """Cross-site cookies need a CSRF check; same-site ``Lax``/``Strict`` ones do not.

    ``VIA_TOKEN`` is never chosen by default, as in the SDKs: the custom-header check is
    as strong for browsers and needs no extra state.
    """
    if override is not None:
        return override
    if cookie_same_site == "none":
        return AntiCsrfMode.VIA_CUSTOM_HEADER
    return AntiCsrfMode.NONE


def check_cookie_policy(
    cookie_same_site: SameSite, cookie_secure: bool, api_domain: str, website_domain: str
) -> None:
    """Refuse ``SameSite=None`` without ``Secure``: browsers drop such cookies silently.

    Local development (both origins on localhost or IP addresses) is exempt, as in the SDKs,
    because browsers treat those origins as secure contexts.
    """
    if cookie_same_site != "none" or cookie_secure:
        return
    _, api_host = _scheme_and_host(api_domain)
    _, web_host = _scheme_and_host(website_domain)
    if _is_local(api_host) and _is_local(web_host):
        return
    raise ValueError(
        "SameSite=None cookies need Secure: serve the API over https, or set SameSite explicitly"
    )
