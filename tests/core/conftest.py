"""Key fixtures for the core tests.

RSA generation takes tens of milliseconds, so keys are made once per run (session scope)
and shared; the tests never mutate them.
"""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey

from tokenward.core import refresh_token
from tokenward.core.signing_keys import generate_rsa_private_key


@pytest.fixture(scope="session")
def rsa_key() -> RSAPrivateKey:
    """Our signing key."""
    return generate_rsa_private_key()


@pytest.fixture(scope="session")
def attacker_key() -> RSAPrivateKey:
    """A valid RSA key that is not ours."""
    return generate_rsa_private_key()


@pytest.fixture(scope="session")
def refresh_key() -> bytes:
    return refresh_token.new_key()
