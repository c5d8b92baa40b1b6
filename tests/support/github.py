"""A GitHub-shaped OAuth 2.0 provider on loopback (no OpenID: no id token, no discovery), built
on FakeProvider, that checks what it is sent as GitHub does:

- ``consent(url, login)`` stands for the user approving the app at the authorisation URL: it
  checks the client id and the redirect URI and returns a single-use code bound to them (and
  to the PKCE challenge, when there is one);
- ``POST /login/oauth/access_token`` checks the code, the client id and secret and the
  redirect URI; a bad code is GitHub's 200 ``{"error": "bad_verification_code"}``; without
  ``Accept: application/json`` the answer is form-encoded, as GitHub's;
- ``POST /applications/<client id>/token`` (Basic auth with the client's id and secret, JSON
  ``{"access_token"}``) tells whether a token was issued to that app: 200 with ``app.client_id``,
  404 for a token it did not issue (one ``foreign_token`` made for another app);
- ``GET /user`` and ``GET /user/emails`` need ``Authorization: Bearer <access token>`` (401
  ``Bad credentials`` otherwise); ``/user`` gives ``{"id": <number>, "login", "email"}``,
  ``/user/emails`` the addresses with their ``primary`` and ``verified`` flags.

Failures are injected with ``github.script(path, Answer(...))``, which comes first.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from tests.support.idp import Answer, FakeProvider, Received

CLIENT_ID = "Iv1.8a61f9b3a7aba766"
CLIENT_SECRET = "a-github-client-secret-1234567890abcdef"
AUTHORIZE = "/login/oauth/authorize"
TOKEN = "/login/oauth/access_token"
USER = "/user"
EMAILS = "/user/emails"
TOKEN_CHECK = f"/applications/{CLIENT_ID}/token"
BAD_CREDENTIALS = Answer(
    status=401,
    body={"message": "Bad credentials", "documentation_url": "https://docs.github.com/rest"},
)


@dataclass(frozen=True)
class GitHubUser:
    id: int
    login: str
    emails: list[dict[str, Any]] = field(default_factory=list)
    public_email: str | None = None


def address(email: str, *, primary: bool = True, verified: bool = True) -> dict[str, Any]:
    return {"email": email, "primary": primary, "verified": verified, "visibility": "private"}


@dataclass
class _Grant:
    login: str
    client_id: str
    redirect_uri: str
    challenge: str | None


class GitHubShaped(FakeProvider):
    def __init__(self, users: list[GitHubUser]) -> None:
        super().__init__()
        self.users = {u.login: u for u in users}
        self._codes: dict[str, _Grant] = {}
        self._tokens: dict[str, str] = {}
        self._foreign: set[str] = set()
        self.handle(TOKEN, self._token)
        self.handle(TOKEN_CHECK, self._check)
        self.handle(USER, self._user)
        self.handle(EMAILS, self._emails)

    def endpoints(self) -> dict[str, str]:
        """The endpoint keys of a provider configuration pointing here."""
        return {
            "authorizationEndpoint": self.url(AUTHORIZE),
            "tokenEndpoint": self.url(TOKEN),
            "userInfoEndpoint": self.url(USER),
        }

    def consent(self, authorisation_url: str, login: str) -> str:
        """The code GitHub would send back after ``login`` approved the app."""
        parts = urlsplit(authorisation_url)
        assert f"{parts.scheme}://{parts.netloc}{parts.path}" == self.url(AUTHORIZE)
        query = {k: v[0] for k, v in parse_qs(parts.query).items()}
        assert query["client_id"] == CLIENT_ID and query["response_type"] == "code"
        code = secrets.token_hex(10)
        self._codes[code] = _Grant(
            login, query["client_id"], query["redirect_uri"], query.get("code_challenge")
        )
        return code

    def token_of(self, login: str) -> str:
        """An access token issued to ``login`` (as a native app would hold)."""
        return next(token for token, holder in self._tokens.items() if holder == login)

    def foreign_token(self, login: str) -> str:
        """An access token ``login`` gave another app: good at /user, not ours."""
        token = "gho_" + secrets.token_hex(18)
        self._tokens[token] = login
        self._foreign.add(token)
        return token

    def _check(self, received: Received) -> Answer:
        expected = base64.b64encode(f"{CLIENT_ID}:{CLIENT_SECRET}".encode()).decode()
        if received.headers.get("Authorization") != f"Basic {expected}":
            return Answer(status=401, body={"message": "Bad credentials"})
        token = json.loads(received.body or b"{}").get("access_token")
        if token not in self._tokens or token in self._foreign:
            return Answer(status=404, body={"message": "Not Found"})
        return Answer(body={"token": token, "app": {"client_id": CLIENT_ID, "name": "tokenward"}})

    def _token(self, received: Received) -> Answer:
        form = {k: v[0] for k, v in parse_qs(received.body.decode()).items()}
        grant = self._codes.pop(form.get("code", ""), None)  # single use
        if (
            grant is None
            or form.get("grant_type") != "authorization_code"
            or form.get("client_id") != grant.client_id
            or form.get("client_secret") != CLIENT_SECRET
            or form.get("redirect_uri") != grant.redirect_uri
            or not _pkce_holds(grant.challenge, form.get("code_verifier"))
        ):
            return Answer(
                body={
                    "error": "bad_verification_code",
                    "error_description": "The code passed is incorrect or expired.",
                }
            )
        token = "gho_" + secrets.token_hex(18)
        self._tokens[token] = grant.login
        answer = {"access_token": token, "token_type": "bearer", "scope": "read:user,user:email"}
        if "application/json" not in received.headers.get("Accept", ""):
            body = urlencode(answer).encode()
            return Answer(body=body, headers={"Content-Type": "application/x-www-form-urlencoded"})
        return Answer(body=answer)

    def _holder(self, received: Received) -> GitHubUser | None:
        scheme, _, token = received.headers.get("Authorization", "").partition(" ")
        login = self._tokens.get(token) if scheme.lower() == "bearer" else None
        return self.users.get(login) if login is not None else None

    def _user(self, received: Received) -> Answer:
        user = self._holder(received)
        if user is None:
            return BAD_CREDENTIALS
        return Answer(body={"id": user.id, "login": user.login, "email": user.public_email})

    def _emails(self, received: Received) -> Answer:
        user = self._holder(received)
        return BAD_CREDENTIALS if user is None else Answer(body=user.emails)


def _pkce_holds(challenge: str | None, verifier: str | None) -> bool:
    if challenge is None:
        return verifier is None
    if verifier is None:
        return False
    digest = hashlib.sha256(verifier.encode()).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode() == challenge
