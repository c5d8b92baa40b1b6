"""The session recipe's FDI bodies (for the OpenAPI document)."""

from __future__ import annotations

from tokenward.http.schemas import (
    Reply,
)


class Refreshed(Reply):
    """The new tokens travel in headers (or cookies); the body is an empty object."""
