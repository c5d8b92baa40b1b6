"""The multi-factor use cases: factors and the claim (factors.py), recovery codes
(recovery_codes.py)."""
