"""One-way digests of high-entropy secrets (API keys, recovery codes, salted password hashes).

These secrets carry at least 80 bits of randomness, so a fast hash cannot be reversed by
guessing; a slow password hash would only make every request with an API key slower.
"""

import hashlib


def digest(secret):
    return hashlib.sha256(secret.encode()).hexdigest()
