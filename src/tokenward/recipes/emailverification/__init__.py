"""The email-verification recipe: verification links, the ``st-ev`` claim, and its core API."""
