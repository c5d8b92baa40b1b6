"""Async use cases over the stores. Plain values in and out (no HTTP objects); the frontend API,
the core API and embedding apps all call these."""
