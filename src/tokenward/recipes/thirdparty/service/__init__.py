"""The third-party use cases: the providers each tenant offers (providers.py) and the sign-in
with one of them (sign_in.py)."""
