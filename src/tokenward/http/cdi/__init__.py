"""The Core Driver Interface: the HTTP API SuperTokens' backend SDKs (and tokenward's remote mode)
call on the core. Served by `tokenward serve`, behind the API key."""
