"""Pure session and token logic for tokenward.

Layer rule: no I/O, no framework imports, no globals, no reading the clock. Time
(``now_ms``) and keys are passed in by the caller. That keeps every decision here a
deterministic function of its arguments, which tests can drive exhaustively and which the
outer layers (store, service, http) can use without mocking anything.
"""
