"""An injected clock that tests move by hand (no sleeping through token lifetimes)."""

from __future__ import annotations

START_MS = 1_767_225_600_000  # 2026-01-01T00:00:00Z


class FakeClock:
    def __init__(self, now_ms: int = START_MS) -> None:
        self.now = now_ms

    def now_ms(self) -> int:
        return self.now

    def advance(self, *, ms: int = 0, seconds: float = 0, hours: float = 0) -> None:
        self.now += ms + int(seconds * 1000) + int(hours * 3_600_000)
