"""Multi-tenancy: the tenants (only ``public`` so far) and their core API."""
