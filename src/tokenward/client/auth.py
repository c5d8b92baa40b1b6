"""``SessionAuth``: an ``httpx.Auth`` that keeps a SuperTokens-style session alive by itself.

The whole flow (sign in lazily, renew before expiry or after a session-expired answer, retry
once) is written once, as the generator ``locked_flow``; ``tokenward.client.flow_runner`` runs it
under ``httpx.Client`` and ``httpx.AsyncClient`` alike. It takes the lock only around the
decision to sign in or refresh and the call itself, and decides by generation number (see
``state``) so that callers who waited while another refreshed do not refresh again.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Callable, Generator, Sequence
from os import PathLike
from pathlib import Path
from typing import Any, NoReturn

import httpx

from tokenward.client import protocol
from tokenward.client.errors import AuthUnavailable, ClientError, SessionExpired
from tokenward.client.flow_runner import Flow, Lock, LockedFlowAuth, Reply, Step, send
from tokenward.client.state import SessionState, Snapshot
from tokenward.client.storage import TokenFile
from tokenward.client.tokens import REMOVED, Issued, Tokens, read_update

log = logging.getLogger("tokenward.client")

KIND = "tokenward.client"
"""Request extension marking the calls ``sign_in``/``sign_out`` make through the flow."""
SIGN_IN = "sign-in"
SIGN_OUT = "sign-out"
DEFAULT_PORTS = {"http": 80, "https": 443}


class SessionAuth(LockedFlowAuth):
    """Signs in with email/password (header mode), sends ``Authorization: Bearer <access>``
    to ``api_domain`` (and ``origins``), and renews the tokens itself.

    Renewal happens before a request when the access token expires within ``renew_before``
    seconds (at most half its lifetime), judged on the server's clock; and after a response
    with ``session_expired_status``, followed by one retry of the request. Concurrent
    requests share one refresh. Share one instance between clients, threads and tasks.
    """

    def __init__(
        self,
        api_domain: str,
        *,
        email: str | None = None,
        password: str | None = None,
        api_base_path: str = "/auth",
        tenant_id: str | None = None,
        token_file: str | PathLike[str] | None = None,
        renew_before: float = 30.0,
        session_expired_status: int = 401,
        on_session_expired: Callable[[SessionExpired], None] | None = None,
        now_ms: Callable[[], int] | None = None,
        origins: Sequence[str] = (),
    ) -> None:
        super().__init__()
        if (email is None) != (password is None):
            raise ValueError("give both email and password, or neither")
        if renew_before < 0:
            raise ValueError("renew_before must be zero or more seconds")
        self._endpoints = protocol.Endpoints(api_domain, api_base_path, tenant_id)
        self._credentials = (
            (email, password) if email is not None and password is not None else None
        )
        self._origins = frozenset(_origin(httpx.URL(o)) for o in (api_domain, *origins))
        self._margin_ms = int(renew_before * 1000)
        self._expired_status = session_expired_status
        self._on_session_expired = on_session_expired
        self._now_ms = now_ms or _system_now_ms
        stored = TokenFile(Path(token_file), api_domain) if token_file is not None else None
        self._state = SessionState(stored)

    # -- what the caller may look at ---------------------------------------------------------

    @property
    def signed_in(self) -> bool:
        """Whether tokens are held (they may still turn out to be revoked server-side)."""
        return self._state.snapshot().tokens is not None

    @property
    def user_id(self) -> str | None:
        tokens = self._state.snapshot().tokens
        return tokens.user_id if tokens is not None else None

    @property
    def access_token_payload(self) -> dict[str, Any] | None:
        """The current access token's payload (claims such as ``st-ev``), as sent in
        ``front-token``."""
        tokens = self._state.snapshot().tokens
        return dict(tokens.payload) if tokens is not None else None

    def clear(self) -> None:
        """Forget the tokens locally (and delete the token file) without telling the server."""
        self._state.clear()

    # -- explicit calls: thin wrappers that send a marked request through the same flow -------

    def sign_in(self, client: httpx.Client) -> dict[str, Any]:
        """Sign in now (replacing any held session) and return the FDI ``user`` object."""
        response = client.post(self._endpoints.sign_in, auth=self, extensions={KIND: SIGN_IN})
        return _user(response)

    async def asign_in(self, client: httpx.AsyncClient) -> dict[str, Any]:
        response = await client.post(self._endpoints.sign_in, auth=self, extensions={KIND: SIGN_IN})
        return _user(response)

    def sign_out(self, client: httpx.Client) -> None:
        """Revoke the session on the server and forget it here. A session that had already
        ended counts as signed out; ``AuthUnavailable`` (tokens kept) if the server is down."""
        if self.signed_in:
            with contextlib.suppress(SessionExpired):  # already over: that is signed out too
                client.post(self._endpoints.sign_out, **self._sign_out_options())

    async def asign_out(self, client: httpx.AsyncClient) -> None:
        if self.signed_in:
            with contextlib.suppress(SessionExpired):
                await client.post(self._endpoints.sign_out, **self._sign_out_options())

    def _sign_out_options(self) -> dict[str, Any]:
        return {"auth": self, "headers": protocol.session_headers(), "extensions": {KIND: SIGN_OUT}}

    # -- the flow, written once -------------------------------------------------------------

    def locked_flow(self, request: httpx.Request) -> Flow:
        kind = request.extensions.get(KIND)
        if kind == SIGN_IN:
            yield from self._sign_in(request, replace=True)
            return
        if _origin(request.url) not in self._origins or "authorization" in request.headers:
            yield from send(request)  # not ours to decorate: never leak the token
            return
        notify = kind != SIGN_OUT
        seen = self._state.snapshot()
        renewed = False
        deferred: AuthUnavailable | None = None
        held = seen.tokens
        if held is None:
            if self._credentials is not None and kind != SIGN_OUT:
                seen = yield from self._sign_in(request, replace=False)
        elif held.renewal_due(self._now_ms(), self._margin_ms):
            try:
                seen = yield from self._renew(request, seen, notify)
                renewed = True
            except AuthUnavailable as exc:
                if held.expired(self._now_ms()):
                    raise
                deferred = exc  # the token still works: use it, renew on a later request
        response, cleared = yield from self._send_authorized(request, seen)
        if response.status_code == self._expired_status and seen.tokens is not None:
            if cleared:  # the server ended the session itself (checked against the database)
                self._expired(SessionExpired(protocol.message_of(response, "unauthorised")), notify)
            if deferred is not None:
                raise deferred
            if not renewed:  # at most one refresh per request, so never a loop
                seen = yield from self._renew(request, seen, notify)
                response, _ = yield from self._send_authorized(request, seen)
        if kind == SIGN_OUT:
            if protocol.is_transient(response.status_code):
                raise protocol.unavailable(response)
            self._state.clear()

    def _sign_in(
        self, template: httpx.Request, *, replace: bool
    ) -> Generator[Step, Reply, Snapshot]:
        if self._credentials is None:
            raise ClientError("signing in needs the email and password given to SessionAuth")
        yield Lock.ACQUIRE
        current = self._state.snapshot()
        if replace or current.tokens is None:  # else another caller signed in while we waited
            email, password = self._credentials
            request = protocol.sign_in_request(self._endpoints, email, password, template)
            response = yield from send(request, read_body=True)
            tokens, _ = protocol.sign_in_result(response, self._now_ms())
            current = self._state.replace(tokens)
            log.info("signed in as user %s", tokens.user_id)
        yield Lock.RELEASE
        return current

    def _renew(
        self, template: httpx.Request, seen: Snapshot, notify: bool
    ) -> Generator[Step, Reply, Snapshot]:
        """Refresh, unless the generation moved since ``seen`` (someone else already did)."""
        yield Lock.ACQUIRE
        current = self._state.snapshot()
        if current.generation == seen.generation and current.tokens is not None:
            request = protocol.refresh_request(
                self._endpoints, current.tokens.refresh_token, template
            )
            response = yield from send(request, read_body=True)
            try:
                tokens = protocol.refresh_result(response, self._now_ms(), self._expired_status)
            except SessionExpired as exc:
                self._state.clear(expected=current.generation)
                yield Lock.RELEASE
                self._expired(exc, notify)
            current = self._state.replace(tokens, expected=current.generation)
            log.debug("renewed the session of user %s", tokens.user_id)
        yield Lock.RELEASE
        if current.tokens is None:
            raise SessionExpired("the session was ended by another request")
        return current

    def _send_authorized(
        self, request: httpx.Request, seen: Snapshot
    ) -> Generator[Step, Reply, tuple[httpx.Response, bool]]:
        """Send with the access token of ``seen``; take in whatever tokens the answer
        carries. The flag says whether the answer ended the session."""
        request.headers[protocol.AUTH_MODE_HEADER] = "header"  # tokens in headers, not cookies
        if seen.tokens is not None:
            request.headers["authorization"] = f"Bearer {seen.tokens.access_token}"
        response = yield from send(request)
        return response, self._absorb(response, seen)

    def _absorb(self, response: httpx.Response, seen: Snapshot) -> bool:
        """Any response may replace the access token (the first use after a refresh does)
        or end the session (``front-token: remove``); compare-and-set on ``seen``."""
        update = read_update(response.headers)
        if update == REMOVED:
            return self._state.clear(expected=seen.generation)
        if isinstance(update, Issued):
            refresh = update.refresh_token or (seen.tokens.refresh_token if seen.tokens else None)
            if refresh is None:
                return False
            try:
                tokens = Tokens.received(
                    update.access_token, refresh, update.front_token, self._now_ms()
                )
            except ValueError:
                log.warning("ignored a malformed front-token from %s", response.url.host)
                return False
            self._state.replace(tokens, expected=seen.generation)
        return False

    def _expired(self, exc: SessionExpired, notify: bool) -> NoReturn:
        """Tell the application once (outside the lock), then raise."""
        log.info("session expired: %s", exc.reason)
        if notify and self._on_session_expired is not None:
            self._on_session_expired(exc)
        raise exc


def _user(response: httpx.Response) -> dict[str, Any]:
    user = response.json().get("user")
    if not isinstance(user, dict):
        raise ClientError("sign-in answered without a user")
    return user


def _origin(url: httpx.URL) -> tuple[str, str, int | None]:
    return url.scheme, url.host, url.port or DEFAULT_PORTS.get(url.scheme)


def _system_now_ms() -> int:
    return time.time_ns() // 1_000_000
