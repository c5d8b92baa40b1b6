"""Passwordless sign-in: one-time codes and magic links by email or SMS."""
