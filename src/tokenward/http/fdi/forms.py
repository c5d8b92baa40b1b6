"""The FDI ``formFields`` list: ``[{"id": "email", "value": "..."}, ...]``."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from tokenward.http.requests import BadRequest
from tokenward.service.accounts import FieldError, FieldErrors

NOT_OPTIONAL = "Field is not optional"


def form_values(body: dict[str, Any], required: Sequence[str]) -> dict[str, str]:
    """The values of the required fields. A malformed list is a 400; a missing or empty field
    is a FIELD_ERROR, reported for every such field at once."""
    fields = body.get("formFields")
    if not isinstance(fields, list):
        raise BadRequest("formFields must be an array of {id, value} objects")
    values: dict[str, str] = {}
    for field in fields:
        if not isinstance(field, dict) or not isinstance(field.get("id"), str):
            raise BadRequest("formFields must be an array of {id, value} objects")
        value = field.get("value")
        if value is not None and not isinstance(value, str):
            raise BadRequest(f"formFields value of {field['id']!r} must be a string")
        if value is not None:
            values[field["id"]] = value
    missing = [FieldError(name, NOT_OPTIONAL) for name in required if not values.get(name)]
    if missing:
        raise FieldErrors(missing)
    return {name: values[name] for name in required}


def field_error_body(errors: FieldErrors) -> dict[str, Any]:
    return {
        "status": "FIELD_ERROR",
        "formFields": [{"id": e.id, "error": e.error} for e in errors.errors],
    }
