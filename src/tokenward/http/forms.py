"""The FDI ``formFields`` list: ``[{"id": "email", "value": "..."}, ...]``."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from tokenward.http.requests import BadRequest
from tokenward.shared.form_errors import FieldError, FieldErrors

NOT_OPTIONAL = "Field is not optional"


def form_values(body: dict[str, Any], allowed: Iterable[str]) -> dict[str, str]:
    """Every submitted field, by id. A malformed list, or a field the route does not know, is a
    400 (no mass assignment)."""
    fields = body.get("formFields")
    if not isinstance(fields, list):
        raise BadRequest("formFields must be an array of {id, value} objects")
    known = set(allowed)
    values: dict[str, str] = {}
    for field in fields:
        if not isinstance(field, dict) or not isinstance(field.get("id"), str):
            raise BadRequest("formFields must be an array of {id, value} objects")
        name = field["id"]
        if name not in known:
            raise BadRequest(f"Unknown form field {name[:64]!r}")
        value = field.get("value")
        if value is not None and not isinstance(value, str):
            raise BadRequest(f"The value of form field {name!r} must be a string")
        if value is not None:
            values[name] = value
    return values


def missing_fields(values: dict[str, str], required: Iterable[str]) -> list[FieldError]:
    return [FieldError(name, NOT_OPTIONAL) for name in required if not values.get(name)]


def require(values: dict[str, str], required: Iterable[str]) -> None:
    """FIELD_ERROR for every required field that is absent or empty."""
    missing = missing_fields(values, required)
    if missing:
        raise FieldErrors(missing)


def field_error_body(errors: FieldErrors) -> dict[str, Any]:
    return {
        "status": "FIELD_ERROR",
        "formFields": [{"id": e.id, "error": e.error} for e in errors.errors],
    }
