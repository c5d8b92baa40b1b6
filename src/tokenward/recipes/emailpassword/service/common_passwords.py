"""The packaged list of common passwords, read once (the password rules take it as a value)."""

from __future__ import annotations

import functools
from importlib import resources

BLOCKLIST_RESOURCE = ("data", "common-passwords.txt")


@functools.cache
def common_passwords() -> frozenset[str]:
    """The packaged blocklist, lower-cased; ``#`` lines are the source and licence header."""
    resource = resources.files("tokenward.recipes.emailpassword")
    for part in BLOCKLIST_RESOURCE:
        resource = resource / part
    text = resource.read_text(encoding="utf-8")
    return frozenset(
        line.strip().lower()
        for line in text.splitlines()
        if line.strip() and not line.startswith("#")
    )
