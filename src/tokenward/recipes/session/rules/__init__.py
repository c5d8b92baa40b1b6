"""The session recipe's rules: pure session and token logic.

No I/O, no framework imports, no globals, no reading the clock (import-linter checks the
imports). Time (``now_ms``) and keys are passed in by the caller. That keeps every decision here
a deterministic function of its arguments, which tests can drive exhaustively and which the
outer layers (port, service, handlers) can use without mocking anything.
"""
