"""The email/password recipe: sign-up, sign-in, email exists and password reset."""
