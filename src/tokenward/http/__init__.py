"""HTTP (ASGI, Starlette): the frontend API, the core API, JWKS and health, with request parsing,
token transport and the mapping of errors to status codes kept in this package."""
