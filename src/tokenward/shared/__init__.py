"""Shared pieces every recipe uses; they know no recipe, no HTTP and no settings."""
