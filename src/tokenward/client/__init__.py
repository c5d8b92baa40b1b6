"""A Python client that acts as a signed-in user of a tokenward (or SuperTokens) API.

It plays the part SuperTokens' frontend SDKs play in a browser, for scripts, CLIs, services
and test suites: ``SessionAuth`` plugs into ``httpx.Client`` or ``httpx.AsyncClient``, signs
in with email and password, and renews its tokens by itself. See docs/client.md.
"""

from tokenward.client.auth import SessionAuth
from tokenward.client.errors import (
    AuthUnavailable,
    ClientError,
    SessionExpired,
    SignInFailed,
    UnexpectedResponse,
)

__all__ = [
    "AuthUnavailable",
    "ClientError",
    "SessionAuth",
    "SessionExpired",
    "SignInFailed",
    "UnexpectedResponse",
]
