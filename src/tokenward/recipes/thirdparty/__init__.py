"""Social and enterprise sign-in with OAuth 2.0 and OpenID Connect providers
(SuperTokens' thirdparty recipe)."""
