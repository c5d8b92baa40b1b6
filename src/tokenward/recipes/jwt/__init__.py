"""The JWT recipe: the signing keys and their public half (JWKS)."""
