"""The assembly: routes, stores, services and the runtime built from the enabled recipes."""
