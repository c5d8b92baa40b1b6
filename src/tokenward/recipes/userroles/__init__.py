"""User roles and permissions: the ``st-role`` and ``st-perm`` claims and their core API."""
