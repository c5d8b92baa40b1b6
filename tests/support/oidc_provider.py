"""A real OpenID provider on loopback for the social/OIDC login tests: panva's certified
`oidc-provider` (npm, pinned by tests/oidc/package-lock.json; `make test` installs it through
scripts/test-deps.sh) run by ``node tests/oidc/provider.mjs``.

Its development interactions are on: a login form where any login is accepted (it becomes the
``sub``), then a consent form. A browser (Playwright) fills them in like a user would;
``OidcProvider.login`` fills them in with httpx::

    with OidcProvider(
        clients=[OidcClient("web", ["http://127.0.0.1:3000/cb"], client_secret="s3cret")],
        accounts={"alice": {"email": "alice@example.com", "email_verified": True}},
    ) as op:
        result = op.login("web", "http://127.0.0.1:3000/cb", login="alice")
        # result.code, result.state, result.nonce, result.code_verifier, result.iss

Accounts not in ``accounts`` exist too, with the email ``<sub>@example.com`` (not verified).
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
import os
import re
import secrets
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any
from urllib.parse import parse_qs, urljoin, urlsplit

import httpx

OIDC_DIR = Path(__file__).resolve().parent.parent / "oidc"
STARTUP_TIMEOUT = 30.0
MAX_STEPS = 12
"""Redirects and forms in one login; the full flow takes six."""


class OidcProviderError(RuntimeError):
    """The provider did not start, or answered a login unexpectedly (its output included)."""


class OidcLoginError(RuntimeError):
    """The provider sent the browser back to the client with an error (``error=...``)."""

    def __init__(self, error: str, description: str, state: str | None) -> None:
        super().__init__(f"{error}: {description}")
        self.error = error
        self.description = description
        self.state = state


@dataclass(frozen=True)
class OidcClient:
    """A client registered with the provider. Without ``client_secret`` it is a public client
    (token_endpoint_auth_method ``none``, PKCE required)."""

    client_id: str
    redirect_uris: Sequence[str]
    client_secret: str | None = None
    token_endpoint_auth_method: str | None = None
    """Default: client_secret_basic with a secret, none without."""
    id_token_signed_response_alg: str = "RS256"
    metadata: Mapping[str, Any] = field(default_factory=dict)
    """Any other client metadata (RFC 7591 names), e.g. ``{"post_logout_redirect_uris": [...]}``."""

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "client_id": self.client_id,
            "redirect_uris": list(self.redirect_uris),
            "id_token_signed_response_alg": self.id_token_signed_response_alg,
            **self.metadata,
        }
        if self.client_secret is not None:
            out["client_secret"] = self.client_secret
        if self.token_endpoint_auth_method is not None:
            out["token_endpoint_auth_method"] = self.token_endpoint_auth_method
        return out


@dataclass(frozen=True)
class Authorization:
    """Where a login ended: the redirect to the client, not called."""

    code: str
    state: str
    nonce: str
    code_verifier: str | None
    iss: str | None
    redirect: str
    """The full redirect URL, query included."""


def pkce_challenge(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


class OidcProvider:
    """``node tests/oidc/provider.mjs`` on http://127.0.0.1:<free port>, stopped on exit."""

    def __init__(
        self,
        clients: Sequence[OidcClient | Mapping[str, Any]] = (),
        accounts: Mapping[str, Mapping[str, Any]] | None = None,
        *,
        jwks: Mapping[str, Any] | None = None,
        claims_in_id_token: bool = True,
    ) -> None:
        """``accounts`` maps a login (the ``sub``) to its claims (email, email_verified, name,
        given_name, family_name, picture, locale). ``jwks``: the private signing keys (a JWKS);
        by default an RS256 and an ES256 key are generated at start. ``claims_in_id_token``:
        the ID token carries the scopes' claims, as most social providers do; False keeps them
        to the userinfo endpoint (oidc-provider's default, conformIdTokenClaims)."""
        node = shutil.which("node")
        if node is None:
            raise OidcProviderError("Node.js is not installed; `make test` installs it")
        if not (OIDC_DIR / "node_modules" / "oidc-provider").is_dir():
            raise OidcProviderError(
                "tests/oidc's npm packages are not installed: run scripts/test-deps.sh"
            )
        self.clients = {
            c.client_id if isinstance(c, OidcClient) else str(c["client_id"]): (
                c.to_json() if isinstance(c, OidcClient) else dict(c)
            )
            for c in clients
        }
        self._dir = Path(tempfile.mkdtemp(prefix="tokenward-oidc-"))
        config = self._dir / "config.json"
        config.write_text(
            json.dumps(
                {
                    "port": 0,  # the provider picks a free port and prints it: no race
                    "clients": list(self.clients.values()),
                    "accounts": dict(accounts or {}),
                    "claims_in_id_token": claims_in_id_token,
                    **({"jwks": dict(jwks)} if jwks is not None else {}),
                }
            )
        )
        self.log = self._dir / "provider.log"
        self._handle = self.log.open("w")
        self.process = subprocess.Popen(
            [node, str(OIDC_DIR / "provider.mjs")],
            cwd=OIDC_DIR,
            env={
                "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
                "OIDC_PROVIDER_CONFIG": str(config),
                "NODE_ENV": "development",
            },
            stdout=self._handle,
            stderr=subprocess.STDOUT,
        )
        try:
            self.issuer = self._wait_until_listening()
            self.discovery: dict[str, Any] = self._wait_for_discovery()
        except BaseException:
            self.stop()
            raise

    # -- the process -----------------------------------------------------------------------

    def _wait_until_listening(self) -> str:
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise OidcProviderError(
                    f"the OpenID provider exited with {self.process.returncode}:\n{self.output()}"
                )
            match = re.search(r"^listening (http://\S+)$", self.output(), re.MULTILINE)
            if match:
                return match.group(1)
            time.sleep(0.02)
        raise OidcProviderError(f"the OpenID provider did not start:\n{self.output()}")

    def _wait_for_discovery(self) -> dict[str, Any]:
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while True:
            try:
                response = httpx.get(self.discovery_url, timeout=2)
                if response.status_code == 200:
                    document: dict[str, Any] = response.json()
                    return document
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline or self.process.poll() is not None:
                raise OidcProviderError(
                    f"no discovery document at {self.discovery_url}:\n{self.output()}"
                )
            time.sleep(0.02)

    def output(self) -> str:
        if not self._handle.closed:
            self._handle.flush()
        return self.log.read_text() if self.log.exists() else ""

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._handle.close()
        shutil.rmtree(self._dir, ignore_errors=True)

    def __enter__(self) -> OidcProvider:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    # -- the provider's endpoints -----------------------------------------------------------

    @property
    def discovery_url(self) -> str:
        return f"{self.issuer}/.well-known/openid-configuration"

    @property
    def jwks_uri(self) -> str:
        return str(self.discovery["jwks_uri"])

    @property
    def authorization_endpoint(self) -> str:
        return str(self.discovery["authorization_endpoint"])

    @property
    def token_endpoint(self) -> str:
        return str(self.discovery["token_endpoint"])

    @property
    def userinfo_endpoint(self) -> str:
        return str(self.discovery["userinfo_endpoint"])

    # -- a login by script -------------------------------------------------------------------

    def authorization_url(
        self,
        client_id: str,
        redirect_uri: str,
        *,
        state: str,
        nonce: str,
        code_verifier: str | None,
        scope: str = "openid email profile",
        extra_params: Mapping[str, str] | None = None,
    ) -> str:
        params = {
            "response_type": "code",
            "client_id": client_id,
            "redirect_uri": redirect_uri,
            "scope": scope,
            "state": state,
            "nonce": nonce,
            **({} if code_verifier is None else {"code_challenge": pkce_challenge(code_verifier)}),
            **({} if code_verifier is None else {"code_challenge_method": "S256"}),
            **(extra_params or {}),
        }
        return str(httpx.URL(self.authorization_endpoint, params=params))

    def login(
        self,
        client_id: str,
        redirect_uri: str,
        *,
        login: str = "alice",
        scope: str = "openid email profile",
        state: str | None = None,
        nonce: str | None = None,
        pkce: bool = True,
        code_verifier: str | None = None,
        extra_params: Mapping[str, str] | None = None,
        http: httpx.Client | None = None,
    ) -> Authorization:
        """The authorization code flow up to the redirect to ``redirect_uri`` (not called):
        GET the authorization endpoint (state, nonce, and PKCE S256 unless ``pkce=False``),
        POST the login form as ``login``, POST the consent form. Pass ``http`` (with its
        cookies) to keep the provider's session between logins. Raises OidcLoginError when
        the provider redirects back with an error, OidcProviderError on anything else."""
        state = state if state is not None else secrets.token_urlsafe(16)
        nonce = nonce if nonce is not None else secrets.token_urlsafe(16)
        verifier = (code_verifier or secrets.token_urlsafe(48)) if pkce else None
        url = self.authorization_url(
            client_id,
            redirect_uri,
            state=state,
            nonce=nonce,
            code_verifier=verifier,
            scope=scope,
            extra_params=extra_params,
        )
        redirect, first = self._follow(url, login, http)
        if "code" not in first:
            raise OidcProviderError(f"no code in the redirect {first}:\n{self.output()}")
        return Authorization(
            code=first["code"],
            state=first.get("state", ""),
            nonce=nonce,
            code_verifier=verifier,
            iss=first.get("iss"),
            redirect=redirect,
        )

    def follow(
        self, authorization_url: str, *, login: str = "alice", http: httpx.Client | None = None
    ) -> dict[str, str]:
        """A login that starts at an authorization URL someone else built (an SDK's, say):
        the query of the redirect back to its ``redirect_uri`` (not called), e.g. ``code``.
        Raises OidcLoginError when the provider redirects back with an error."""
        return self._follow(authorization_url, login, http)[1]

    def _follow(
        self, url: str, login: str, http: httpx.Client | None
    ) -> tuple[str, dict[str, str]]:
        """The redirect back and its query; raises OidcLoginError for an error redirect."""
        redirect_uri = parse_qs(urlsplit(url).query)["redirect_uri"][0]
        own = http is None
        client = http or httpx.Client(timeout=10)
        try:
            redirect = self._drive(client, url, redirect_uri, login)
        finally:
            if own:
                client.close()
        query = {name: values[0] for name, values in parse_qs(urlsplit(redirect).query).items()}
        if "error" in query:
            raise OidcLoginError(
                query["error"], query.get("error_description", ""), query.get("state")
            )
        return redirect, query

    def _drive(self, client: httpx.Client, url: str, redirect_uri: str, login: str) -> str:
        target = urlsplit(redirect_uri)
        response = client.get(url, follow_redirects=False)
        for _ in range(MAX_STEPS):
            if response.is_redirect:
                location = urljoin(str(response.url), response.headers["location"])
                parts = urlsplit(location)
                if (parts.scheme, parts.netloc, parts.path) == (
                    target.scheme,
                    target.netloc,
                    target.path,
                ):
                    return location
                response = client.get(location, follow_redirects=False)
                continue
            form = _form(response.text) if response.status_code == 200 else None
            if form is None:
                raise OidcProviderError(
                    f"unexpected answer {response.status_code} from {response.url}:\n"
                    f"{response.text[:2000]}\n--- provider output:\n{self.output()}"
                )
            action, prompt = form
            data = {"prompt": prompt}
            if prompt == "login":
                # Any password is accepted by the development interactions.
                data |= {"login": login, "password": "any"}
            response = client.post(
                urljoin(str(response.url), action), data=data, follow_redirects=False
            )
        raise OidcProviderError(f"the login did not end after {MAX_STEPS} steps:\n{self.output()}")


_FORM = re.compile(r'<form[^>]*\baction="([^"]+)"[^>]*>(.*?)</form>', re.DOTALL)
_PROMPT = re.compile(r'name="prompt"\s+value="([a-z]+)"')


def _form(page: str) -> tuple[str, str] | None:
    """The development interaction page's form: (action, prompt), login or consent."""
    for action, body in _FORM.findall(page):
        prompt = _PROMPT.search(body)
        if prompt:
            return html.unescape(action), prompt.group(1)
    return None
