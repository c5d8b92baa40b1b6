"""The session recipe: refresh and sign-out (FDI), sessions for backend SDKs (CDI)."""
