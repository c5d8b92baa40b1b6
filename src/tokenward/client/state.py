"""The client's current tokens, shared by every thread and task that uses one ``SessionAuth``.

Every change bumps a generation number. A caller remembers the generation its request used;
when it later wants to renew, it compares: a different generation means someone else already
renewed (or the session ended) and the caller must not renew again. This is how
supertokens-website avoids double refreshes across tabs with ``st-last-access-token-update``.
Changes are compare-and-set on that number, so a late answer can never overwrite newer
tokens with older ones.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

from tokenward.client.storage import TokenFile
from tokenward.client.tokens import Tokens


@dataclass(frozen=True, slots=True)
class Snapshot:
    tokens: Tokens | None
    generation: int


class SessionState:
    """Tokens plus generation, guarded by a mutex that is never held across I/O except the
    token file write (so the file always matches memory)."""

    def __init__(self, token_file: TokenFile | None) -> None:
        self._mutex = threading.Lock()
        self._file = token_file
        self._tokens = token_file.load() if token_file is not None else None
        self._generation = 0

    def snapshot(self) -> Snapshot:
        with self._mutex:
            return Snapshot(self._tokens, self._generation)

    def replace(self, tokens: Tokens, expected: int | None = None) -> Snapshot:
        """Store ``tokens`` unless the generation moved past ``expected`` (``None``: always).
        Returns the state after the call, ours or the newer one that won."""
        with self._mutex:
            if expected is None or expected == self._generation:
                self._tokens = tokens
                self._generation += 1
                if self._file is not None:
                    self._file.save(tokens)
            return Snapshot(self._tokens, self._generation)

    def clear(self, expected: int | None = None) -> bool:
        """Forget the tokens (and delete the file) unless the generation moved past
        ``expected``; ``True`` if this call cleared them."""
        with self._mutex:
            if expected is not None and expected != self._generation:
                return False
            had_tokens = self._tokens is not None
            self._tokens = None
            self._generation += 1
            if self._file is not None:
                self._file.remove()
            return had_tokens
