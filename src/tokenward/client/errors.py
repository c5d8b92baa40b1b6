"""What can go wrong when acting as a signed-in user, as distinct exceptions.

The split follows what the caller should do next: ``SessionExpired`` means "sign in again"
(retrying is pointless), ``AuthUnavailable`` means "try again later, your session is fine",
``SignInFailed`` means "fix the credentials". Messages never contain tokens or passwords.
"""

from __future__ import annotations


class ClientError(Exception):
    """Base of every error that ``tokenward.client`` raises itself.

    Network failures are not wrapped: they surface as ``httpx.TransportError``, exactly as
    for any other request, and they never touch the stored tokens either.
    """


class SignInFailed(ClientError):
    """The server refused the email/password sign-in (a business outcome, not an outage)."""

    def __init__(
        self, status: str, message: str, field_errors: dict[str, str] | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        """The FDI status: ``WRONG_CREDENTIALS_ERROR``, ``FIELD_ERROR``, ``GENERAL_ERROR``..."""
        self.field_errors = field_errors or {}
        """For ``FIELD_ERROR``: the error text by form-field id (``email``, ``password``)."""


class SessionExpired(ClientError):
    """The session cannot be renewed: it expired, was revoked or signed out, or its refresh
    token was presented twice (theft). The tokens are already cleared; sign in again."""

    def __init__(self, reason: str) -> None:
        super().__init__(f"the session has ended and cannot be renewed ({reason}); sign in again")
        self.reason = reason
        """The server's message, e.g. ``unauthorised`` or ``token theft detected``."""


class AuthUnavailable(ClientError):
    """Signing in or renewing failed for a reason that says nothing about the session: the
    server answered 5xx (a database outage is a 503), 429 or 408. The tokens are kept, so the
    same call may simply be retried, ideally after ``retry_after`` seconds."""

    def __init__(self, status_code: int, retry_after: float | None) -> None:
        super().__init__(f"the auth server answered {status_code}; retry later")
        self.status_code = status_code
        self.retry_after = retry_after
        """The ``Retry-After`` header in seconds, when the server sent one."""


class UnexpectedResponse(ClientError):
    """An auth endpoint answered outside the protocol (wrong API domain or base path, a proxy
    page, a 200 refresh without tokens). Tokens are kept; this needs a human, not a retry."""

    def __init__(self, what: str, status_code: int) -> None:
        super().__init__(f"{what}: unexpected answer (HTTP {status_code})")
        self.status_code = status_code
