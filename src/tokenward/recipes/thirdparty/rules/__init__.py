"""The third-party recipe's rules: provider configurations in SuperTokens' JSON, the built-in
providers, the authorisation URL with PKCE, which redirect URIs are allowed, and the user fields
read from a provider's answers. No I/O; time and randomness are arguments or ``secrets``."""
