"""The audit log: one structured record per security event, on the ``tokenward.audit`` logger.

Each record's message is ``event key=value …`` for people; the same fields ride on the record
(``record.audit``) for structured handlers. Every record carries the time (UTC, ISO 8601), the
client address and the user agent. Callers pass identifiers only, never secrets (passwords,
tokens, hashes). The events are listed in docs/audit-log.md. ``http.audit`` records the events
of a request; use cases that have no request call ``record_event`` with the client's details.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

log = logging.getLogger("tokenward.audit")

Field = str | int | None

WARNING_EVENTS = frozenset({"session.theft_detected", "totp.locked"})
"""Events logged at WARNING (an attack in progress); the others are INFO."""


def enabled(event: str) -> bool:
    """Whether a record of ``event`` would reach a handler (if not, skip building it)."""
    return log.isEnabledFor(_level(event))


def record_event(
    event: str, *, now_ms: int, ip: str | None, user_agent: str | None, **fields: Field
) -> None:
    """Record ``event`` (e.g. ``sign_in.success``) with ``fields`` and the client's origin."""
    level = _level(event)
    if not log.isEnabledFor(level):
        return
    at = datetime.fromtimestamp(now_ms / 1000, UTC).isoformat(timespec="milliseconds")
    record: dict[str, Field] = {
        "event": event,
        "at": at,
        **fields,
        "ip": ip,
        "user_agent": user_agent,
    }
    text = " ".join(f"{key}={value!r}" for key, value in record.items() if value is not None)
    log.log(level, text, extra={"audit": record})


def _level(event: str) -> int:
    return logging.WARNING if event in WARNING_EVENTS else logging.INFO
