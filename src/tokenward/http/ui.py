"""The prebuilt login UI: sign in (with a password, a passwordless code or link, or a social
provider), sign up, password reset, email verification and an account page, served at the
website base path (default ``/auth``) by `tokenward serve` and by ``Auth.install``.

The pages are plain HTML shipped as package data (``tokenward/ui``), filled with a few settings
and served with a strict Content-Security-Policy (no inline script or style, nothing from other
origins). Their JavaScript talks to the frontend API on the same origin; two routes are added for
it: ``GET {api}/ui/me``, the signed-in user and session for the account page, and
``POST {api}/ui/totp/qr``, the QR code of a TOTP device being set up (``http/ui_qr.py``).
"""

from __future__ import annotations

import hashlib
import html
import string
from dataclasses import dataclass
from importlib import resources

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tokenward.config import Settings
from tokenward.http.context import runtime
from tokenward.http.tenants import DEFAULT_TENANT
from tokenward.http.ui_qr import totp_qr_svg
from tokenward.recipes.multifactorauth.rules import MfaSatisfied
from tokenward.recipes.session.errors import Unauthorised
from tokenward.recipes.session.request_session import SessionOptions, require_session
from tokenward.recipes.thirdparty.rules.providers import Provider
from tokenward.recipes.users.wire import user_json
from tokenward.shared.email_templates import human_duration

SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; script-src 'self'; style-src 'self'; "
    "img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
    # Reset and verification tokens arrive in page URLs: never pass them on in a Referer.
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
}
ASSET_TYPES = {
    "app.css": "text/css; charset=utf-8",
    "session.js": "text/javascript; charset=utf-8",
    "forms.js": "text/javascript; charset=utf-8",
    "passwordless.js": "text/javascript; charset=utf-8",
    "thirdparty.js": "text/javascript; charset=utf-8",
    "mfa.js": "text/javascript; charset=utf-8",
    "pages.js": "text/javascript; charset=utf-8",
}
# The account page asks the database, so a revoked session is refused at once; an unverified
# user may see it (to resend the verification email), so only MFA's claim is checked.
_ACCOUNT = SessionOptions(check_database=True, claim_validators=(MfaSatisfied(),))


@dataclass(frozen=True)
class _Asset:
    body: bytes
    media_type: str
    version: str


def _read(*parts: str) -> bytes:
    return resources.files("tokenward").joinpath("ui", *parts).read_bytes()


def _assets() -> dict[str, _Asset]:
    loaded = {}
    for name, media_type in ASSET_TYPES.items():
        body = _read("static", name)
        loaded[name] = _Asset(body, media_type, hashlib.sha256(body).hexdigest()[:12])
    return loaded


def _pages(settings: Settings, assets: dict[str, _Asset]) -> dict[str, bytes]:
    """Each page's HTML, rendered once: the layout around the page's own content."""
    web = settings.website_base_path.rstrip("/")
    layout = string.Template(_read("layout.html").decode())
    values = {
        "web": html.escape(web),
        "api": html.escape(settings.api_base_path.rstrip("/")),
        "app_name": html.escape(settings.app_name),
        "verification": html.escape(settings.email_verification),
        "expired_status": str(settings.session_expired_status_code),
        "min_length": str(settings.password_min_length),
        # Which passwordless sign-ins the sign-in page offers (data attributes its script reads).
        "passwordless_email": _flag(settings.effective_passwordless_contact_method.takes_email),
        "passwordless_phone": _flag(settings.effective_passwordless_contact_method.takes_phone),
        "passwordless_flow": html.escape(settings.passwordless_flow_type.value),
        "code_lifetime": human_duration(settings.passwordless_code_lifetime),
        "providers": PROVIDERS_MARK,
        **{
            name.replace(".", "_"): html.escape(f"{web}/ui/{name}?v={asset.version}")
            for name, asset in assets.items()
        },
    }
    rendered = {}
    for page, title in PAGE_TITLES.items():
        content = string.Template(_read("pages", f"{page}.html").decode()).substitute(values)
        rendered[page] = layout.substitute(
            values, page=page, title=html.escape(title), content=content
        ).encode()
    return rendered


def _flag(value: bool) -> str:
    return "true" if value else "false"


PROVIDERS_MARK = "<!-- tokenward: provider buttons -->"
"""Where the sign-in and sign-up pages get their provider buttons, at each request: providers
configured through the core API come and go while the server runs."""


def _provider_buttons(providers: list[Provider]) -> str:
    """A "Continue with …" button for each social provider (thirdparty.js makes them work),
    then an "or" before the form; nothing when no provider is configured."""
    if not providers:
        return ""
    buttons = "".join(_provider_button(p.third_party_id, p.name) for p in providers)
    return (
        f'<div id="providers">\n  <div class="actions stacked">{buttons}\n  </div>\n'
        '  <p class="divider"><span>or</span></p>\n</div>'
    )


def _provider_button(third_party_id: str, name: str) -> str:
    id_, name = html.escape(third_party_id), html.escape(name)
    return (
        f'\n    <button type="button" class="secondary" data-provider="{id_}" data-name="{name}">'
        f"Continue with {name}</button>"
    )


PAGE_TITLES = {
    "signin": "Sign in",
    "signup": "Create an account",
    "forgot": "Forgot your password?",
    "reset": "Choose a new password",
    "verify": "Verify your email",
    "link": "Sign-in link",
    "account": "Your account",
    "callback": "Signing in",
    "mfa": "Two-step verification",
    "totp": "Set up an authenticator app",
}


def ui_routes(settings: Settings) -> list[Route]:
    """The page routes at the website base path, the assets under ``{web}/ui/``,
    ``GET {api}/ui/me`` and ``POST {api}/ui/totp/qr``. The pages are GET: the API's own routes
    at these paths are POST."""
    web = settings.website_base_path.rstrip("/")
    api = settings.api_base_path.rstrip("/")
    assets = _assets()
    pages = _pages(settings, assets)

    def page(name: str, body: bytes | None = None) -> Response:
        return Response(
            pages[name] if body is None else body,
            media_type="text/html; charset=utf-8",
            headers={**SECURITY_HEADERS, "Cache-Control": "no-store"},
        )

    async def sign_in(request: Request) -> Response:
        name = "signup" if request.query_params.get("show") == "signup" else "signin"
        offered = await runtime(request).services.thirdparty_providers.providers(DEFAULT_TENANT)
        buttons = _provider_buttons(offered).encode()
        return page(name, pages[name].replace(PROVIDERS_MARK.encode(), buttons))

    async def reset_password(request: Request) -> Response:
        return page("reset" if request.query_params.get("token") else "forgot")

    async def verify_email(request: Request) -> Response:
        return page("verify")

    async def sign_in_link(request: Request) -> Response:
        return page("link")

    async def account(request: Request) -> Response:
        return page("account")

    async def provider_callback(request: Request) -> Response:
        return page("callback")

    async def mfa(request: Request) -> Response:
        return page("mfa")

    async def totp_setup(request: Request) -> Response:
        return page("totp")

    async def totp_qr(request: Request) -> Response:
        return Response(
            await totp_qr_svg(request),
            media_type="image/svg+xml",
            # The image holds the device's secret: no cache may keep it.
            headers={**SECURITY_HEADERS, "Cache-Control": "no-store"},
        )

    async def asset(request: Request) -> Response:
        found = assets.get(request.path_params["name"])
        if found is None:
            return Response("Not found", 404, headers=SECURITY_HEADERS)
        fresh = request.query_params.get("v") == found.version
        cache = "public, max-age=31536000, immutable" if fresh else "no-cache"
        return Response(
            found.body,
            media_type=found.media_type,
            headers={**SECURITY_HEADERS, "Cache-Control": cache},
        )

    return [
        Route(f"{api}/ui/me", me, methods=["GET"]),
        Route(f"{api}/ui/totp/qr", totp_qr, methods=["POST"]),
        Route(web or "/", sign_in, methods=["GET"]),
        Route(f"{web}/reset-password", reset_password, methods=["GET"]),
        Route(f"{web}/verify-email", verify_email, methods=["GET"]),
        # Where passwordless magic links lead (SuperTokens' path): {web}/verify?…#<linkCode>.
        Route(f"{web}/verify", sign_in_link, methods=["GET"]),
        Route(f"{web}/account", account, methods=["GET"]),
        # After the first factor: the second (mfa), or setting up an authenticator app (totp).
        Route(f"{web}/mfa", mfa, methods=["GET"]),
        Route(f"{web}/mfa/totp", totp_setup, methods=["GET"]),
        # Where a social provider sends the browser back (SuperTokens' path), ?code=…&state=….
        Route(f"{web}/callback/{{third_party_id}}", provider_callback, methods=["GET"]),
        Route(f"{web}/ui/{{name}}", asset, methods=["GET"]),
    ]


async def me(request: Request) -> Response:
    """The signed-in user and session, for the account page (once MFA is passed)."""
    session = await require_session(request, _ACCOUNT)
    rt = runtime(request)
    user = await rt.stores.users.get(session.user_id)
    if user is None:
        raise Unauthorised("the user no longer exists", clear_tokens=True)
    verified = await rt.services.email_verification.verified_login_methods(user)
    return JSONResponse(
        {
            "status": "OK",
            "user": user_json(user, verified),
            "session": {"handle": session.session_handle, "tenantId": session.tenant_id},
        },
        headers={"Cache-Control": "no-store"},
    )
