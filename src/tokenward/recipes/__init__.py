"""The recipes: one folder each, with its rules, storage port and SQL, use cases, handlers and
record (docs/architecture.md)."""
