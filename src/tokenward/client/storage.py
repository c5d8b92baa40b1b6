"""Keeping tokens on disk between runs, so a CLI signs in once and not on every command.

The file holds a live refresh token, which is as good as a password for that session, so it
is only ever readable by its owner: each write creates a fresh temporary file with mode 0600
in the same directory (umask can only narrow that), fsyncs it and renames it over the old
one. A crash mid-write therefore leaves the previous file or the new one, never half of it,
and at no moment does a world-readable copy exist.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import secrets
import stat
from pathlib import Path

from tokenward.client.tokens import Tokens

log = logging.getLogger("tokenward.client")

FORMAT_VERSION = 1


class TokenFile:
    """A JSON file with one session's tokens, tied to the API domain they belong to."""

    def __init__(self, path: Path, api_domain: str) -> None:
        self.path = path
        self._api_domain = api_domain

    def load(self) -> Tokens | None:
        """The stored tokens; ``None`` when the file is missing, unreadable, corrupt or was
        written for another API domain (the client then signs in again and overwrites it)."""
        try:
            text = self.path.read_text(encoding="utf-8")
            mode = self.path.stat().st_mode
        except FileNotFoundError:
            return None
        except OSError as exc:
            log.warning("cannot read token file %s: %s", self.path, exc.strerror)
            return None
        if mode & (stat.S_IRWXG | stat.S_IRWXO):
            log.warning("token file %s is accessible by other users; fix with chmod 600", self.path)
        try:
            document = json.loads(text)
            if document.get("version") != FORMAT_VERSION:
                raise ValueError("unknown format version")
            if document.get("api_domain") != self._api_domain:
                log.info("token file %s belongs to another API domain; ignored", self.path)
                return None
            return Tokens.restored(
                str(document["access_token"]),
                str(document["refresh_token"]),
                str(document["front_token"]),
                int(document["skew_ms"]),
            )
        except (ValueError, KeyError, TypeError, AttributeError):
            # Never echo the content: it may hold a token.
            log.warning("token file %s is not a tokenward token file; ignored", self.path)
            return None

    def save(self, tokens: Tokens) -> None:
        """Replace the file atomically; the content is never readable by other users."""
        document = {
            "version": FORMAT_VERSION,
            "api_domain": self._api_domain,
            "access_token": tokens.access_token,
            "refresh_token": tokens.refresh_token,
            "front_token": tokens.front_token,
            "skew_ms": tokens.skew_ms,
        }
        data = json.dumps(document).encode("utf-8")
        directory = self.path.parent
        temporary = directory / f".{self.path.name}.{secrets.token_hex(8)}.tmp"
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(temporary, self.path)
        except BaseException:
            with contextlib.suppress(OSError):
                temporary.unlink()
            raise
        _fsync_directory(directory)

    def remove(self) -> None:
        """Delete the file (signed out or expired); a missing file is fine."""
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()
        _fsync_directory(self.path.parent)


def _fsync_directory(directory: Path) -> None:
    """Make the rename or unlink itself durable (POSIX); best effort elsewhere."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
