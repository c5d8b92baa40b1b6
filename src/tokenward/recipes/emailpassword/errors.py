"""Outcomes of email/password sign-in that the handlers report as FDI statuses."""

from __future__ import annotations


class WrongCredentials(Exception):
    """Unknown email or wrong password; deliberately indistinguishable."""
