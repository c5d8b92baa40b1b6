"""User metadata: one JSON object per user, through the core API."""
