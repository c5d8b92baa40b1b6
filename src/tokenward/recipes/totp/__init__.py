"""TOTP authenticator apps (RFC 6238): devices and code verification."""
