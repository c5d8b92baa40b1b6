"""Storage failures, as the layers above see them."""


class StoreError(Exception):
    """Base class of storage errors."""


class StoreUnavailable(StoreError):
    """The database cannot be reached or is overloaded. Retryable: callers answer 503."""


class InvalidInput(StoreError):
    """The database refused a value as malformed (for example a NUL character): bad input, 400."""


class SchemaOutOfDate(StoreError):
    """The database schema is missing migrations: run `tokenward migrate`."""
