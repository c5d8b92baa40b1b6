"""The QR code of a TOTP device being set up, drawn on this server as SVG (``segno``) for the
set-up page: ``POST {api}/ui/totp/qr`` with ``{"uri": "otpauth://totp/…"}``.

The page has the URI from ``POST {api}/totp/device`` and sends it back over the same origin,
in a body (never a URL, never to another service). Only a signed-in user gets an image, and
only of an ``otpauth://totp/`` URI with this server's issuer and the secret of one of the
user's devices still being set up: the route draws the user's own new device, not arbitrary
text.
"""

from __future__ import annotations

import io
from urllib.parse import parse_qs, urlsplit

import segno
from starlette.requests import Request

from tokenward.http.context import runtime
from tokenward.http.requests import BadRequest, json_body
from tokenward.recipes.multifactorauth.fdi import PENDING_MFA
from tokenward.recipes.session.request_session import require_session
from tokenward.recipes.totp.rules import valid_secret

MAX_URI = 1024
_REFUSED = "uri must be the otpauth:// URI of your new TOTP device"


def otpauth_secret(uri: object, issuer: str) -> str | None:
    """The secret of ``uri`` if it is a TOTP URI with ``issuer`` and a valid secret, else
    None."""
    if not isinstance(uri, str) or len(uri) > MAX_URI:
        return None
    parts = urlsplit(uri)
    if parts.scheme != "otpauth" or parts.netloc != "totp" or parts.fragment:
        return None
    query = parse_qs(parts.query, strict_parsing=True) if parts.query else {}
    secrets, issuers = query.get("secret", []), query.get("issuer", [])
    if len(secrets) != 1 or not valid_secret(secrets[0]) or issuers != [issuer]:
        return None
    return secrets[0]


def qr_svg(text: str) -> bytes:
    """``text`` as a QR code: an SVG image (dark modules on white, with a quiet zone)."""
    out = io.BytesIO()
    segno.make(text, error="m", micro=False).save(
        out, kind="svg", scale=5, border=4, dark="#000", light="#fff", xmldecl=False
    )
    return out.getvalue()


async def totp_qr_svg(request: Request) -> bytes:
    """The SVG for ``POST {api}/ui/totp/qr``; a 400 for anything but the user's new device."""
    # A device is set up before the second factor is complete (a user who must set one up).
    session = await require_session(request, PENDING_MFA)
    rt = runtime(request)
    uri = (await json_body(request)).get("uri")
    try:
        secret = otpauth_secret(uri, rt.services.totp.issuer)
    except ValueError:
        secret = None  # a malformed query string
    if secret is None or not await rt.services.totp.is_new_device_secret(session.user_id, secret):
        raise BadRequest(_REFUSED)
    return qr_svg(str(uri))
