"""Form input that breaks a rule: the FDI's ``FIELD_ERROR`` with a message per field."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class FieldError:
    id: str
    error: str


class FieldErrors(Exception):
    """Form input that breaks a rule (FDI FIELD_ERROR)."""

    def __init__(self, errors: Sequence[FieldError]) -> None:
        super().__init__("; ".join(f"{e.id}: {e.error}" for e in errors))
        self.errors = list(errors)
