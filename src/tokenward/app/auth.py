"""``Auth``: tokenward wired from its settings, for `tokenward serve` and for embedding.

It owns the stores, the keys, the password hasher and the email and SMS senders; ``lifespan()``
opens and closes them and plugs into the app's lifespan; ``install(app)`` adds the frontend API
routes, the middleware that carries token changes onto responses, CORS for the website, and the
mapping of session errors to the protocol's responses.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress

from starlette.applications import Starlette
from starlette.middleware.cors import CORSMiddleware

from tokenward.app.maintenance import cleanup_forever
from tokenward.app.recipes import RECIPES
from tokenward.app.routes import routes
from tokenward.app.runtime import Runtime
from tokenward.app.services import open_services
from tokenward.app.stores import Stores
from tokenward.config import Settings, load_settings
from tokenward.hooks import Hooks
from tokenward.http.client_ip import trusted_networks
from tokenward.http.context import TokenwardMiddleware
from tokenward.http.errors import SESSION_HANDLERS
from tokenward.http.fetch_metadata import CrossOriginGuard
from tokenward.http.security_headers import SecurityHeaders
from tokenward.http.transport import TokenTransport
from tokenward.recipes.emailverification.service import EMAIL_VERIFIED, Mode
from tokenward.recipes.multifactorauth.rules import MfaSatisfied
from tokenward.shared.claims import ClaimValidator
from tokenward.shared.clock import Clock, SystemClock
from tokenward.shared.database import migrate
from tokenward.shared.email_delivery import EmailSender
from tokenward.shared.sms_delivery import SmsSender

# Headers the frontend SDKs send (SuperTokens' list) plus content-type.
CORS_ALLOW_HEADERS = [
    "content-type",
    "rid",
    "fdi-version",
    "anti-csrf",
    "authorization",
    "st-auth-mode",
]


class Auth:
    def __init__(
        self,
        settings: Settings | None = None,
        *,
        hooks: Hooks | None = None,
        claim_validators: tuple[ClaimValidator, ...] = (),
        migrate_on_start: bool = True,
        clock: Clock | None = None,
        email_sender: EmailSender | None = None,
        sms_sender: SmsSender | None = None,
    ) -> None:
        """``settings`` default to the environment (``TOKENWARD_*``). ``claim_validators`` are
        added to the global ones (email verification in REQUIRED mode, MFA's ``st-mfa``). With
        ``migrate_on_start`` the schema is brought up to date when the app starts."""
        self.settings = settings or load_settings()
        self.hooks = hooks or Hooks()
        self._validators = claim_validators
        self._migrate = migrate_on_start
        self._clock = clock or SystemClock()
        self._email_sender = email_sender
        self._sms_sender = sms_sender
        self._runtime: Runtime | None = None

    @property
    def runtime(self) -> Runtime:
        if self._runtime is None:
            raise RuntimeError("tokenward has not started: run the app's lifespan (auth.lifespan)")
        return self._runtime

    @asynccontextmanager
    async def lifespan(self) -> AsyncIterator[None]:
        stores = Stores.open(self.settings.database_url)
        cleaner: asyncio.Task[None] | None = None
        try:
            if self._migrate:
                await migrate.upgrade(stores.db)
            else:
                await migrate.require_current(stores.db)
            services = await open_services(
                self.settings,
                stores,
                self._clock,
                sender=self._email_sender,
                sms=self._sms_sender,
                hooks=self.hooks,
            )
            self._runtime = Runtime(
                settings=self.settings,
                stores=stores,
                services=services,
                transport=TokenTransport(self.settings, self._clock),
                clock=self._clock,
                claim_validators=self._global_validators(),
                hooks=self.hooks,
                trusted_proxies=trusted_networks(self.settings.trusted_proxies),
            )
            cleaner = asyncio.create_task(
                cleanup_forever(
                    stores, services.keys, self._clock, self.settings.session_cleanup_interval
                )
            )
            try:
                yield
            finally:
                await services.close()
        finally:
            self._runtime = None
            try:
                if cleaner is not None:
                    cleaner.cancel()
                    with suppress(asyncio.CancelledError):
                        await cleaner
            finally:
                await stores.close()

    def install(self, app: Starlette, *, cors: bool = True) -> None:
        """Serve the frontend API from ``app`` and let its routes verify sessions. Call it
        before the app starts; with ``cors=False`` the app brings its own CORS handling."""
        app.router.routes.extend(routes(self.settings))
        app.add_middleware(
            TokenwardMiddleware,
            session_access=lambda: self.runtime.session_access,
            runtime=lambda: self.runtime,
        )
        base, website = self.settings.api_base_path, self.settings.effective_website_domain
        app.add_middleware(
            CrossOriginGuard,
            allowed_origins=[self.settings.api_domain, website],
            api_base_path=base,
            exempt_paths=[r.path for rec in RECIPES for r in rec.frontend if r.cross_site],
        )
        https = self.settings.api_domain.startswith("https://")
        app.add_middleware(SecurityHeaders, api_base_path=base, https=https)
        if cors:
            app.add_middleware(
                CORSMiddleware,
                allow_origins=[self.settings.effective_website_domain],
                allow_credentials=True,
                allow_methods=["GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"],
                allow_headers=CORS_ALLOW_HEADERS,
            )
        for error, handler in SESSION_HANDLERS.items():
            app.add_exception_handler(error, handler)

    def _global_validators(self) -> tuple[ClaimValidator, ...]:
        required = self.settings.email_verification == Mode.REQUIRED
        email = (EMAIL_VERIFIED.has_value(True),) if required else ()
        return (*email, MfaSatisfied(), *self._validators)
