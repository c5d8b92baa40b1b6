"""The Frontend Driver Interface: the routes SuperTokens' frontend SDKs call under /auth."""
