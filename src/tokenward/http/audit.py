"""The audit records of a request (``shared.audit``): the time from the runtime's clock, the
client address through trusted proxies, and the user agent."""

from __future__ import annotations

from starlette.requests import Request

from tokenward.http.client_ip import UNKNOWN
from tokenward.http.context import client_address, session_access
from tokenward.shared.audit import Field, enabled, record_event


def audit(request: Request, event: str, **fields: Field) -> None:
    """Record ``event`` (e.g. ``sign_in.failure``) with ``fields`` and the request's origin."""
    if not enabled(event):  # nothing would receive it: skip building it
        return
    record_event(
        event,
        now_ms=session_access(request).clock.now_ms(),
        ip=address(request),
        user_agent=request.headers.get("user-agent"),
        **fields,
    )


def address(request: Request) -> str:
    """Through trusted proxies where tokenward serves the route itself; the socket's peer in
    remote mode (an app verifying sessions against a tokenward server has no proxy list)."""
    try:
        return client_address(request)
    except RuntimeError:
        return request.client.host if request.client else UNKNOWN
