"""The audit log: one structured record per security event, on the ``tokenward.audit`` logger.

Each record's message is ``event key=value …`` for people; the same fields ride on the record
(``record.audit``) for structured handlers. Every record carries the time (UTC, ISO 8601, from
the runtime's clock), the client address (through trusted proxies) and the user agent. Callers
pass identifiers only, never secrets (passwords, tokens, hashes). The events are listed in
docs/audit-log.md.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from starlette.requests import Request

from tokenward.http.client_ip import UNKNOWN
from tokenward.http.context import client_address, guard

log = logging.getLogger("tokenward.audit")

Field = str | int | None

WARNING_EVENTS = frozenset({"session.theft_detected"})
"""Events logged at WARNING (an attack in progress); the others are INFO."""


def audit(request: Request, event: str, **fields: Field) -> None:
    """Record ``event`` (e.g. ``sign_in.failure``) with ``fields`` and the request's origin."""
    level = logging.WARNING if event in WARNING_EVENTS else logging.INFO
    if not log.isEnabledFor(level):  # nothing would receive it: skip building it
        return
    record: dict[str, Field] = {
        "event": event,
        "at": _now_utc(request),
        **fields,
        "ip": address(request),
        "user_agent": request.headers.get("user-agent"),
    }
    text = " ".join(f"{key}={value!r}" for key, value in record.items() if value is not None)
    log.log(level, text, extra={"audit": record})


def _now_utc(request: Request) -> str:
    millis = guard(request).clock.now_ms()
    return datetime.fromtimestamp(millis / 1000, UTC).isoformat(timespec="milliseconds")


def address(request: Request) -> str:
    """Through trusted proxies where tokenward serves the route itself; the socket's peer in
    remote mode (an app verifying sessions against a tokenward server has no proxy list)."""
    try:
        return client_address(request)
    except RuntimeError:
        return request.client.host if request.client else UNKNOWN
