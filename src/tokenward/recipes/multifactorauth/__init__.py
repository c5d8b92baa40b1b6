"""Multi-factor authentication: the st-mfa claim, what a sign-in requires, recovery codes."""
