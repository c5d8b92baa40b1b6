"""Users and their login methods, which every login recipe writes: the core API's user routes."""
