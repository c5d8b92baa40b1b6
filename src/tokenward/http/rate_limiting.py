"""Rate limits around the frontend API's endpoints (docs/rate-limits.md).

Each recipe's record names the ``Limit`` of its limited endpoints, and the app wraps them: the
wrapper finds the client address (through trusted proxies only) and the identifier the limit is
about (the email in the form or the query, or the signed-in user), counts the hit, and either calls
the endpoint or answers 429 with ``Retry-After``. The answer depends on the counters only, never on
whether an account exists. Every refusal writes a ``rate_limited`` audit record."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import Message

from tokenward.http.audit import audit
from tokenward.http.context import client_address, runtime
from tokenward.http.requests import Endpoint, read_body
from tokenward.http.tenants import tenant_of
from tokenward.recipes.session.request_session import SessionOptions, require_session
from tokenward.shared.emails import normalise_email
from tokenward.shared.encoding import json_loads_object
from tokenward.shared.rate_limits.limiter import RateLimited
from tokenward.shared.rate_limits.rules import Policy, Window

Subject = tuple[str, ...] | None
"""What a per-identifier limit counts (tenant and email, or a user id); None: nothing to key on."""
Identify = Callable[[Request], Awaitable[tuple[Request, Subject]]]
"""Finds the subject; returns the request to hand on (its body replayed if it was read)."""
Limits = Callable[[Policy], tuple[Window, Window | None]]
"""The limit per client address and the one per subject."""


@dataclass(frozen=True, slots=True)
class Limit:
    """An endpoint's budgets: ``windows`` per client address and, when ``identify`` finds a
    subject, per subject."""

    windows: Limits
    identify: Identify | None = None

    def wrap(self, endpoint: Endpoint) -> Endpoint:
        return limited(endpoint, self.windows, self.identify)


class SignInLimit:
    """Sign-in's failure budgets and growing delays (``sign_in_limited``)."""

    def wrap(self, endpoint: Endpoint) -> Endpoint:
        return sign_in_limited(endpoint)


SIGN_IN = SignInLimit()

TOO_MANY = "Too many requests. Please try again later."


def too_many_requests(request: Request, refused: RateLimited) -> Response:
    audit(request, "rate_limited", scope=refused.scope, retry_after=refused.retry_after_s)
    return JSONResponse(
        {"message": TOO_MANY},
        status_code=429,
        headers={"Retry-After": str(refused.retry_after_s)},
    )


def limited(endpoint: Endpoint, limits: Limits, identify: Identify | None = None) -> Endpoint:
    """``endpoint`` behind a budget per client address and, when ``identify`` finds a
    subject, one per subject."""

    async def guarded(request: Request) -> Response:
        limiter = runtime(request).services.rate_limits
        if limiter is None:
            return await endpoint(request)
        subject: Subject = None
        if identify is not None:
            request, subject = await identify(request)
        per_ip, per_subject = limits(limiter.policy)
        try:
            await limiter.hit(per_ip, client_address(request))
            if per_subject is not None and subject is not None:
                await limiter.hit(per_subject, *subject)
        except RateLimited as refused:
            return too_many_requests(request, refused)
        return await endpoint(request)

    return guarded


def sign_in_limited(endpoint: Endpoint) -> Endpoint:
    """Sign-in behind the address's failure budget and the growing delay per account (from
    this address, and from anywhere); a successful sign-in takes its charge back."""

    async def guarded(request: Request) -> Response:
        limiter = runtime(request).services.rate_limits
        if limiter is None:
            return await endpoint(request)
        request, subject = await form_email(request)
        tenant_id, email = subject if subject is not None else (tenant_of(request), None)
        try:
            attempt = await limiter.begin_sign_in(tenant_id, email, client_address(request))
        except RateLimited as refused:
            return too_many_requests(request, refused)
        response = await endpoint(request)
        if _succeeded(response):
            await limiter.sign_in_succeeded(attempt)
        return response

    return guarded


async def password_was_reset(request: Request, tenant_id: str, user_id: str) -> None:
    """After a completed reset, the account's sign-in delays no longer hold its owner back."""
    rt = runtime(request)
    if rt.services.rate_limits is None:
        return
    user = await rt.stores.users.get(user_id)
    for method in user.login_methods if user is not None else ():
        if method.email is not None:
            await rt.services.rate_limits.password_was_reset(
                tenant_id, method.email, client_address(request)
            )


def _succeeded(response: Response) -> bool:
    """The FDI outcome: HTTP 200 with ``"status": "OK"``."""
    if response.status_code != 200:
        return False
    try:
        return bool(json.loads(bytes(response.body)).get("status") == "OK")
    except (ValueError, AttributeError):
        return False


# --- finding the subject ------------------------------------------------------------------------


def body_subject(pick: Callable[[dict[str, Any]], str | None]) -> Identify:
    """The tenant and the identifier ``pick`` finds in a JSON body. The body is read here (with
    the usual size cap) and replayed to the endpoint, which reports anything malformed."""

    async def identify(request: Request) -> tuple[Request, Subject]:
        raw = await read_body(request)
        replayed = Request(request.scope, _replay(raw))
        try:
            value = pick(json_loads_object(raw, storable=True))
        except ValueError:
            return replayed, None
        return replayed, None if value is None else (tenant_of(request), value)

    return identify


def _form_email(body: dict[str, Any]) -> str | None:
    """The normalised email of a ``formFields`` body."""
    fields = body.get("formFields")
    if not isinstance(fields, list):
        return None
    for field in fields:
        if isinstance(field, dict) and field.get("id") == "email":
            value = field.get("value")
            if isinstance(value, str):
                return normalise_email(value)
    return None


form_email = body_subject(_form_email)


async def session_user(request: Request) -> tuple[Request, Subject]:
    """The signed-in user (claims not checked: unverified users ask for verification links)."""
    session = await require_session(request, SessionOptions(claim_validators=()))
    return request, (session.recipe_user_id,)


def _replay(body: bytes) -> Callable[[], Awaitable[Message]]:
    async def receive() -> Message:
        return {"type": "http.request", "body": body, "more_body": False}

    return receive


# --- the limits of each endpoint ----------------------------------------------------------------


def sign_up(policy: Policy) -> tuple[Window, Window | None]:
    return policy.sign_up_per_ip, policy.sign_up_per_email


def query_value(name: str, normalise: Callable[[str], str | None]) -> Identify:
    """The tenant and the normalised value of the query parameter ``name``."""

    async def identify(request: Request) -> tuple[Request, Subject]:
        raw = request.query_params.get(name)
        value = normalise(raw) if raw else None
        return request, None if value is None else (tenant_of(request), value)

    return identify


query_email = query_value("email", normalise_email)


def email_exists(policy: Policy) -> tuple[Window, Window | None]:
    return policy.email_exists_per_ip, policy.email_exists_per_email


def emails(policy: Policy) -> tuple[Window, Window | None]:
    """Reset and verification links share the budgets: both send mail."""
    return policy.emails_per_ip, policy.emails_per_account


def codes(policy: Policy) -> tuple[Window, Window | None]:
    """Passwordless codes sent, per address and per email or phone number."""
    return policy.codes_per_ip, policy.codes_per_contact


def resent_codes(policy: Policy) -> tuple[Window, Window | None]:
    """Passwordless codes resent, per address and per sign-in attempt (device)."""
    return policy.codes_per_ip, policy.codes_per_device


def code_consumes(policy: Policy) -> tuple[Window, Window | None]:
    return policy.code_consumes_per_ip, None


def provider_urls(policy: Policy) -> tuple[Window, Window | None]:
    return policy.provider_urls_per_ip, None


def provider_sign_ins(policy: Policy) -> tuple[Window, Window | None]:
    """Each one costs calls to the provider: limited per address (no account is known yet)."""
    return policy.provider_sign_ins_per_ip, None


def refresh(policy: Policy) -> tuple[Window, Window | None]:
    return policy.refresh_per_ip, None
