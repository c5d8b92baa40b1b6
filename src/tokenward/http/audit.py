"""The audit log: one structured record per security event, on the ``tokenward.audit`` logger.

Each record's message is ``event key=value …`` for people; the same fields ride on the record
(``record.audit``) for structured handlers. The client address and user agent come from the
request. Callers pass identifiers only, never secrets (passwords, tokens, hashes).
"""

from __future__ import annotations

import logging

from starlette.requests import Request

from tokenward.http.context import client_address

log = logging.getLogger("tokenward.audit")

Field = str | int | None


def audit(request: Request, event: str, **fields: Field) -> None:
    """Record ``event`` (e.g. ``sign_in.failure``) with ``fields`` and the request's origin."""
    record: dict[str, Field] = {
        "event": event,
        **fields,
        "ip": client_address(request),
        "user_agent": request.headers.get("user-agent"),
    }
    text = " ".join(f"{key}={value!r}" for key, value in record.items() if value is not None)
    log.info(text, extra={"audit": record})
